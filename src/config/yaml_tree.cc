#include "config/yaml_tree.h"

#include <yaml.h>

#include <map>
#include <optional>

#include "common/status.h"

namespace lf::config::yaml {

Node::Node() : data_(std::make_shared<Data>()) {}

namespace {

struct ParserDeleter {
  void operator()(yaml_parser_t* p) const {
    yaml_parser_delete(p);
    delete p;
  }
};
struct Event {
  yaml_event_t e{};
  bool live = false;
  ~Event() {
    if (live) yaml_event_delete(&e);
  }
};

Mark ToMark(const yaml_mark_t& m) {
  return Mark{static_cast<int>(m.line), static_cast<int>(m.column)};
}

bool IsPlainNull(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

}  // namespace

// Turns libyaml's event stream into trees: a stack of open collections, anchors by name.
class TreeBuilder {
 public:
  explicit TreeBuilder(int max_depth) : max_depth_(max_depth) {}

  absl::StatusOr<std::vector<Node>> Build(std::string_view text) {
    std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t);
    if (!yaml_parser_initialize(parser.get())) {
      delete parser.release();
      return Internal("yaml: cannot initialise the parser");
    }
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    for (;;) {
      Event ev;
      if (!yaml_parser_parse(parser.get(), &ev.e)) {
        const yaml_parser_t& p = *parser;
        std::string what = p.problem != nullptr ? p.problem : "malformed YAML";
        if (p.context != nullptr) what = std::string(p.context) + ": " + what;
        return InvalidArgument("{}:{}: not valid YAML: {}", p.problem_mark.line + 1,
                               p.problem_mark.column + 1, what);
      }
      ev.live = true;
      const yaml_event_t& e = ev.e;
      switch (e.type) {
        case YAML_STREAM_END_EVENT:
          return std::move(docs_);
        case YAML_DOCUMENT_START_EVENT:
          anchors_.clear();
          break;
        case YAML_DOCUMENT_END_EVENT:
          docs_.push_back(root_.value_or(Node()));
          root_.reset();
          break;
        case YAML_SCALAR_EVENT: {
          auto data = std::make_shared<Node::Data>();
          data->mark = ToMark(e.start_mark);
          std::string_view value(reinterpret_cast<const char*>(e.data.scalar.value),
                                 e.data.scalar.length);
          const bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
          data->type = plain && IsPlainNull(value) ? Node::Type::kNull : Node::Type::kScalar;
          data->scalar = std::string(value);
          Add(Node(data), e.data.scalar.anchor);
          break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
          if (static_cast<int>(open_.size()) >= max_depth_) {
            return InvalidArgument("{}:{}: nested more than {} levels deep", e.start_mark.line + 1,
                                   e.start_mark.column + 1, max_depth_);
          }
          auto data = std::make_shared<Node::Data>();
          data->mark = ToMark(e.start_mark);
          const bool seq = e.type == YAML_SEQUENCE_START_EVENT;
          data->type = seq ? Node::Type::kSequence : Node::Type::kMap;
          const yaml_char_t* anchor =
              seq ? e.data.sequence_start.anchor : e.data.mapping_start.anchor;
          open_.push_back({Node(data), anchor ? reinterpret_cast<const char*>(anchor) : ""});
          break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
          Open done = std::move(open_.back());
          open_.pop_back();
          if (done.node.IsMap() && done.pending_key) {
            return InvalidArgument("{}:{}: a map key without a value", e.start_mark.line + 1,
                                   e.start_mark.column + 1);
          }
          const yaml_char_t* anchor =
              done.anchor.empty() ? nullptr
                                  : reinterpret_cast<const yaml_char_t*>(done.anchor.c_str());
          Add(done.node, anchor);
          break;
        }
        case YAML_ALIAS_EVENT: {
          std::string name(reinterpret_cast<const char*>(e.data.alias.anchor));
          auto it = anchors_.find(name);
          if (it == anchors_.end()) {
            return InvalidArgument("{}:{}: alias *{} names no anchor before it",
                                   e.start_mark.line + 1, e.start_mark.column + 1, name);
          }
          Add(it->second, nullptr);
          break;
        }
        default:
          break;
      }
    }
  }

 private:
  struct Open {
    Node node;
    std::string anchor;
    std::optional<Node> pending_key;  // a map's key waiting for its value
  };

  // Places a finished node in its parent (or as the document's root) and records its anchor.
  void Add(const Node& node, const yaml_char_t* anchor) {
    if (anchor != nullptr) anchors_[reinterpret_cast<const char*>(anchor)] = node;
    if (open_.empty()) {
      root_ = node;
      return;
    }
    Open& top = open_.back();
    Node::Data& parent = *top.node.data_;
    if (parent.type == Node::Type::kSequence) {
      parent.items.push_back(node);
    } else if (top.pending_key) {
      parent.entries.emplace_back(*top.pending_key, node);
      top.pending_key.reset();
    } else {
      top.pending_key = node;
    }
  }

  int max_depth_;
  std::vector<Node> docs_;
  std::optional<Node> root_;
  std::vector<Open> open_;
  std::map<std::string, Node> anchors_;
};

absl::StatusOr<std::vector<Node>> ParseDocuments(std::string_view text, int max_depth) {
  return TreeBuilder(max_depth).Build(text);
}

}  // namespace lf::config::yaml
