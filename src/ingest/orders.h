#pragma once

// FarmIA's online sales orders (SPEC §6.5): Avro records in the Confluent wire format, their
// schema registered with a schema registry, produced to Kafka topic sales_orders.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace lf::ingest {

struct OrdersOptions {
  std::string brokers;
  std::string registry;  // URL
  std::string topic = "sales_orders";
  int64_t orders = 100;
  uint64_t seed = 1;
  int64_t start_ms = 1795305600000;  // 2026-11-22T00:00:00Z
  bool faults = false;  // also a message that is not Avro and one with an unknown schema id
};

// The order schema (record farmia.sales.Order, the fields of SPEC §6.1).
std::string OrderSchemaJson();

// Registers the schema under "<topic>-value", produces the orders (keyed by order id) and flushes.
// Returns how many messages were produced.
absl::StatusOr<int64_t> ProduceOrders(const OrdersOptions& options);

}  // namespace lf::ingest
