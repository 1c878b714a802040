#include "serve/event_hub.h"

#include <poll.h>

#include "common/status.h"
#include "common/time.h"
#include "fmt/format.h"
#include "postgres/connection.h"
#include "serve/db_pool.h"
#include "spdlog/spdlog.h"

namespace lf::serve {

namespace {
constexpr size_t kRecentEvents = 64;
}

void EventHub::Publish(std::string name, std::string data) {
  {
    std::lock_guard lock(mu_);
    recent_.push_back({++seq_, std::move(name), std::move(data)});
    if (recent_.size() > kRecentEvents) recent_.pop_front();
  }
  cv_.notify_all();
}

std::optional<HubEvent> EventHub::WaitNext(uint64_t after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return stopped_ || seq_ > after; });
  if (stopped_ || seq_ <= after) return std::nullopt;
  for (const HubEvent& e : recent_) {
    if (e.seq > after) return e;
  }
  return recent_.back();  // the waiter fell behind by more than the ring: skip to the newest
}

uint64_t EventHub::LastSeq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

void EventHub::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

bool EventHub::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

void Watcher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Watcher::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

namespace {

// What changes when either layer commits: the speed layer's progress and the batch tables'
// sizes. Compared between polls when notifications do not arrive (e.g. through a pooler).
constexpr char kFingerprintSql[] =
    "SELECT (SELECT coalesce(sum(events), 0) FROM lf_offsets)::text, "
    "(SELECT coalesce(max(updated_at)::text, '') FROM lf_offsets), "
    "(SELECT count(*) FROM bytes_hourly)::text || '/' || (SELECT count(*) FROM "
    "user_quota_limit)::text";

std::string EventJson(std::string_view layer, std::string_view detail) {
  std::string escaped;
  for (char c : detail) {
    if (c == '"' || c == '\\') escaped += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) escaped += c;
  }
  auto now = WallNow();
  return fmt::format(R"({{"layer":"{}","detail":"{}","at":"{}"}})", layer, escaped,
                     FormatTime(std::chrono::floor<std::chrono::seconds>(now)));
}

}  // namespace

void Watcher::Loop() {
  postgres::PgConn conn;
  std::string speed_fp, batch_fp;
  auto next_poll = std::chrono::steady_clock::now();
  auto next_connect = next_poll;
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    if (!conn) {
      if (now < next_connect) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      auto c = postgres::Connect(ReadOnlyTarget(options_.target));
      if (c.ok()) {
        auto st = postgres::Exec(c->get(), "LISTEN lf_speed; LISTEN lf_batch; LISTEN lf_ingest",
                                 "serve: listen");
        if (st.ok()) {
          conn = std::move(*c);
          next_poll = now;
        } else {
          spdlog::warn("{}", Message(st));
        }
      } else {
        spdlog::debug("serve: watcher: {}", Message(c.status()));
      }
      next_connect = now + std::chrono::seconds(2);
      if (!conn) continue;
    }
    bool notified_speed = false, notified_batch = false;
    std::string speed_detail, batch_detail;
    // Wait for a notification on the socket, at most until the next poll (and 250 ms, so Stop()
    // is prompt).
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_poll - now).count();
    pollfd pfd{PQsocket(conn.get()), POLLIN, 0};
    if (wait > 0) ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(wait, 250)));
    if (!PQconsumeInput(conn.get())) {
      spdlog::warn("serve: watcher: lost the PostgreSQL connection: {}",
                   PQerrorMessage(conn.get()));
      conn.reset();
      continue;
    }
    while (PGnotify* n = PQnotifies(conn.get())) {
      std::string channel = n->relname;
      if (channel == "lf_speed") {
        notified_speed = true;
        speed_detail = n->extra;
      } else if (channel == "lf_batch") {
        notified_batch = true;
        batch_detail = n->extra;
      } else if (channel == "lf_ingest") {
        // The ingestion engine committed a batch of files: no fingerprint to compare.
        hub_->Publish("ingest", EventJson("ingest", n->extra));
      }
      PQfreemem(n);
    }
    now = std::chrono::steady_clock::now();
    if (!notified_speed && !notified_batch && now < next_poll) continue;
    next_poll = now + options_.poll_interval;
    auto fp = postgres::Query(conn.get(), kFingerprintSql, {}, "serve: poll progress");
    if (!fp.ok()) {
      // Tables not provisioned yet, or the connection broke: retry on the next round.
      spdlog::debug("{}", Message(fp.status()));
      if (postgres::ConnectionLost(conn.get())) conn.reset();
      continue;
    }
    std::string events = PQgetvalue(fp->get(), 0, 0);
    std::string speed_now = events + "|" + PQgetvalue(fp->get(), 0, 1);
    std::string batch_now = PQgetvalue(fp->get(), 0, 2);
    rate_->Add(now, std::stoll(events));
    bool first = speed_fp.empty() && batch_fp.empty();
    if (!first && (notified_speed || speed_now != speed_fp)) {
      hub_->Publish("speed", EventJson("speed", notified_speed ? speed_detail : "poll"));
    }
    if (!first && (notified_batch || batch_now != batch_fp)) {
      hub_->Publish("batch", EventJson("batch", notified_batch ? batch_detail : "poll"));
    }
    speed_fp = speed_now;
    batch_fp = batch_now;
  }
}

}  // namespace lf::serve
