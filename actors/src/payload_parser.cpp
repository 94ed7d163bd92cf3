#include "payload_parser.hpp"

#include "grainflow/actors/detail/reply_codec.hpp"

#include <cstdint>

namespace grainflow::detail {

namespace {

using msgpack::v2::detail::create_object_visitor;

/// msgpack's object-building visitor with limits set per payload (the base
/// class takes its limits once, at construction). The parser calls the
/// visitor through its static type, so these checks run before the base
/// class allocates anything for a container.
///
/// Only containers need them: the parser hands over a str, bin or ext only
/// once all of its bytes are in the payload, so their size limits (the
/// payload's size) can never be exceeded.
class bounded_object_visitor final : public create_object_visitor {
public:
  bounded_object_visitor()
      : create_object_visitor(nullptr, nullptr, msgpack::unpack_limit{}) {}

  void reset(msgpack::zone& zone, std::size_t payload_size) {
    init();
    set_zone(zone);
    set_referenced(false);
    limit_ = untrusted_unpack_limit(payload_size);
    depth_ = 0;
  }

  bool start_array(std::uint32_t elements) {
    if (elements > limit_.array())
      throw msgpack::array_size_overflow("array size overflow");
    enter();
    return create_object_visitor::start_array(elements);
  }
  bool end_array() {
    --depth_;
    return create_object_visitor::end_array();
  }
  bool start_map(std::uint32_t pairs) {
    if (pairs > limit_.map())
      throw msgpack::map_size_overflow("map size overflow");
    enter();
    return create_object_visitor::start_map(pairs);
  }
  bool end_map() {
    --depth_;
    return create_object_visitor::end_map();
  }

private:
  void enter() {
    // As the base class counts: the root is level 1, so a container opened
    // at depth d makes d + 1 levels.
    if (depth_ + 1 > limit_.depth())
      throw msgpack::depth_size_overflow("depth size overflow");
    ++depth_;
  }

  msgpack::unpack_limit limit_;
  std::size_t depth_ = 0;
};

struct thread_parser {
  bounded_object_visitor visitor;
  msgpack::v2::detail::parse_helper<bounded_object_visitor> parser{visitor};
};

// Never in use twice at once: a parse runs no user code (the visitor only
// builds objects in the zone), so nothing can unpack again from inside it.
thread_local thread_parser this_thread_parser;

} // namespace

msgpack::object unpack_untrusted(msgpack::zone& zone, std::span<const std::byte> payload) {
  if (payload.empty())
    throw msgpack::insufficient_bytes("insufficient bytes");
  auto& own = this_thread_parser;
  // Resets what a payload that threw half-way left behind.
  own.parser.init();
  own.visitor.reset(zone, payload.size());
  std::size_t offset = 0;
  switch (
      own.parser.execute(reinterpret_cast<const char*>(payload.data()), payload.size(), offset)) {
  case msgpack::PARSE_SUCCESS: // trailing bytes are ignored, as by msgpack::unpack
    return own.visitor.data();
  case msgpack::PARSE_CONTINUE:
    throw msgpack::insufficient_bytes("insufficient bytes");
  default:
    throw msgpack::parse_error("parse error");
  }
}

} // namespace grainflow::detail
