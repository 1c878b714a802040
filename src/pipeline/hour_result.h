#pragma once

// The batch layer's result for one hour, shared by the computation (batch) and its store
// (postgres).

#include <cstdint>
#include <string>
#include <vector>

namespace lf::pipeline {

// One row of bytes_hourly for the hour.
struct HourlyRow {
  std::string id;
  std::string
      type;  // antenna_bytes_total, user_bytes_total, user_email_bytes_total, app_bytes_total
  int64_t value = 0;
};

// A user whose bytes in the hour exceeded the hourly quota.
struct QuotaRow {
  std::string email;
  int64_t usage = 0;
  int64_t quota = 0;
};

struct UserInfo {
  std::string email;
  int64_t quota = 0;
};

struct HourResult {
  int64_t hour_s = 0;
  int64_t events = 0;
  std::vector<std::string> files;  // read, absolute paths
  std::vector<HourlyRow> rows;
  std::vector<QuotaRow> over_quota;
  // How many devices had events in the hour but no row in user_metadata (counted in the
  // non-email metrics only), and a few of them.
  int64_t unknown_devices = 0;
  std::vector<std::string> unknown_examples;
};

}  // namespace lf::pipeline
