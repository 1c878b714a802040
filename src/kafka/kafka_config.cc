#include "kafka/kafka_config.h"

#include <array>
#include <string_view>

#include "common/status.h"
#include "spdlog/spdlog.h"

namespace lf::kafka {
namespace {

bool LooksSecret(std::string_view key) {
  return key.find("password") != std::string_view::npos ||
         key.find("secret") != std::string_view::npos ||
         key.find("key.pem") != std::string_view::npos;
}

// librdkafka's own logs (syslog levels) go to the process logger, so they land on stderr with
// everything else.
void LogToSpdlog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  spdlog::level::level_enum l = level <= 3   ? spdlog::level::err
                                : level == 4 ? spdlog::level::warn
                                : level <= 6 ? spdlog::level::info
                                             : spdlog::level::debug;
  spdlog::log(l, "rdkafka {} {}: {}", rk ? rd_kafka_name(rk) : "-", fac, buf);
}

}  // namespace

absl::Status SetConfig(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  std::array<char, 512> err{};
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err.data(), err.size()) !=
      RD_KAFKA_CONF_OK) {
    return InvalidArgument("kafka: config {}={}: {}", key, LooksSecret(key) ? "***" : value,
                           err.data());
  }
  return absl::OkStatus();
}

absl::StatusOr<KafkaConf> MakeConfig(const ConfigPairs& pairs) {
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), LogToSpdlog);
  for (const auto& [key, value] : pairs) LF_RETURN_IF_ERROR(SetConfig(conf.get(), key, value));
  return conf;
}

absl::StatusOr<KafkaClient> NewClient(rd_kafka_type_t type, KafkaConf conf,
                                      const std::string& what) {
  std::array<char, 512> err{};
  KafkaClient rk(rd_kafka_new(type, conf.get(), err.data(), err.size()));
  if (!rk) return InvalidArgument("kafka: create {}: {}", what, err.data());
  (void)conf.release();  // owned by rk now
  return rk;
}

}  // namespace lf::kafka
