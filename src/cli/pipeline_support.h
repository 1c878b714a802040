#pragma once

// `--pipeline FILE` on the layer commands. The layers' general engine is being built (the
// general-engine issue); until a layer runs any definition, the commands run the definitions
// their telecom path computes exactly — the telecom shape (SPEC §1) with its names, topic,
// tables, window, lateness and lake dataset taken from the file — and refuse others with a
// message that says why.

#include <string>

#include "absl/status/statusor.h"
#include "pipeline/definition.h"
#include "postgres/schema.h"

namespace lf::cli {

// The definition at `file`, loaded and validated (errors carry FILE:LINE:COLUMN).
absl::StatusOr<pipeline::Definition> LoadDefinition(const std::string& file);

// OK when `def` is the telecom shape: a Kafka JSON source without key; the fields bytes (int64,
// min 0), timestamp (timestamp in s, the event time), app, id, antenna_id (strings), all
// required, in that order; the metrics antenna_bytes_total, user_bytes_total, app_bytes_total
// as sum(bytes) by antenna_id, id and app over one window, without `where`; the long layout; a
// lake partitioned by event_hour if any; a batch, if any, every 1h with the telecom metrics, a
// user_metadata look-up with email and quota and one limit. Otherwise FailedPrecondition naming
// the first difference and `layer`.
absl::Status CheckTelecomShape(const pipeline::Definition& def, std::string_view layer);

// The table names of a telecom-shaped definition.
postgres::SchemaOptions TelecomTables(const pipeline::Definition& def);

}  // namespace lf::cli
