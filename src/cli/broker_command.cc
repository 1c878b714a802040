// `lambdaflow broker`: the embedded Kafka-protocol broker for local use.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/shutdown.h"
#include "common/status.h"
#include "kafka/embedded_broker.h"
#include "spdlog/spdlog.h"

namespace lf::cli {
namespace {

struct BrokerFlags {
  std::string listen = "127.0.0.1:9092";
  std::vector<std::string> topics = {"devices"};
  int partitions = 8;
};

int RunBroker(const BrokerFlags& flags) {
  kafka::BrokerOptions options;
  options.listen = flags.listen;
  options.topics.clear();
  for (const std::string& t : flags.topics) options.topics.push_back({t, flags.partitions});
  auto broker = kafka::EmbeddedBroker::Start(options);
  if (!broker.ok()) {
    spdlog::error("{}", Message(broker.status()));
    return 1;
  }
  // The one line on stdout: scripts and tests wait for it.
  std::printf("broker: listening on %s\n", (*broker)->address().c_str());
  std::fflush(stdout);
  std::string names;
  for (const std::string& t : flags.topics) names += (names.empty() ? "" : ",") + t;
  spdlog::info("broker: topics {} with {} partitions each; Ctrl-C stops", names, flags.partitions);
  while (!SleepUnlessShutdown(std::chrono::seconds(1))) {
  }
  spdlog::info("broker: stopping; in-memory data is dropped");
  return 0;
}

}  // namespace

void AddBrokerCommand(CLI::App& app, Runner* run) {
  auto flags = std::make_shared<BrokerFlags>();
  auto* cmd = app.add_subcommand(
      "broker",
      "An embedded Kafka-protocol broker for local use (librdkafka's mock cluster).\n"
      "Prints 'broker: listening on HOST:PORT' on stdout once ready; SIGINT/SIGTERM stop it.\n"
      "Limits: in memory only (everything is lost on exit); each partition keeps only about\n"
      "the last 5 MB of message sets, older data is dropped and the low watermark moves up;\n"
      "one broker, no authentication or TLS; clients bootstrap through --listen but then talk\n"
      "to the mock's own 127.0.0.1 port from metadata, so they must run on this machine.\n"
      "Consumer groups and offset commits work. Topics clients produce to without creating\n"
      "them are auto-created.");
  cmd->add_option("--listen", flags->listen,
                  "bootstrap address host:port for clients; port 0 picks a free port")
      ->capture_default_str();
  cmd->add_option("--topic,--topics", flags->topics,
                  "topic to create; repeat or separate with commas")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--partitions", flags->partitions, "partitions of each topic")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->callback([run, flags] { *run = [flags] { return RunBroker(*flags); }; });
}

}  // namespace lf::cli
