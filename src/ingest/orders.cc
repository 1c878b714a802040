#include "ingest/orders.h"

#include <random>

#include "avro/binary_encoder.h"
#include "common/status.h"
#include "fmt/format.h"
#include "ingest/registry_client.h"
#include "kafka/producer.h"

namespace lf::ingest {

std::string OrderSchemaJson() {
  return R"({"type":"record","name":"Order","namespace":"farmia.sales","fields":[)"
         R"({"name":"order_id","type":"string"},{"name":"customer_id","type":"string"},)"
         R"({"name":"product_id","type":"string"},{"name":"quantity","type":"long"},)"
         R"({"name":"unit_price","type":"double"},{"name":"currency","type":"string"},)"
         R"({"name":"order_ts","type":{"type":"long","logicalType":"timestamp-millis"}},)"
         R"({"name":"channel","type":{"type":"enum","name":"Channel","symbols":["web","app","store","phone"]}}]})";
}

absl::StatusOr<int64_t> ProduceOrders(const OrdersOptions& o) {
  LF_ASSIGN_OR_RETURN(auto registry, RegistryClient::Open(o.registry));
  LF_ASSIGN_OR_RETURN(int32_t id, registry->Register(o.topic + "-value", OrderSchemaJson()));
  kafka::ProducerOptions po;
  po.brokers = o.brokers;
  LF_ASSIGN_OR_RETURN(auto producer, kafka::Producer::Open(po));
  std::mt19937_64 rng(o.seed);
  auto pick = [&](int n) {
    return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng));
  };
  const char* currencies[] = {"EUR", "EUR", "EUR", "USD"};
  int64_t sent = 0;
  for (int64_t i = 0; i < o.orders; ++i) {
    avro::RecordWriter w;
    const std::string order_id = fmt::format("ORD-{:08d}", i + 1);
    w.String(order_id);
    w.String(fmt::format("CUST-{:05d}", pick(5000)));
    w.String(fmt::format("P{:04d}", pick(500)));
    w.Long(1 + pick(20));
    w.Double(0.5 + pick(20000) / 100.0);
    w.String(currencies[pick(4)]);
    w.Long(o.start_ms + i * 4000 + pick(4000));
    w.Enum(pick(4));
    LF_RETURN_IF_ERROR(producer->Produce(o.topic, order_id, avro::ConfluentFrame(id, w.body())));
    ++sent;
  }
  if (o.faults) {
    LF_RETURN_IF_ERROR(producer->Produce(o.topic, "bad-1", R"({"order_id":"JSON-NOT-AVRO"})"));
    avro::RecordWriter w;
    w.String("ORD-UNKNOWN-SCHEMA");
    LF_RETURN_IF_ERROR(producer->Produce(o.topic, "bad-2", avro::ConfluentFrame(999999, w.body())));
    sent += 2;
  }
  LF_RETURN_IF_ERROR(producer->Flush(std::chrono::seconds(60)));
  return sent;
}

}  // namespace lf::ingest
