#pragma once

#include "add_request.hpp"
#include "bench_report.hpp"

#include "grainflow/actors/request_stream.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace grainflow {
class node;
} // namespace grainflow

namespace grainflow::bench {

/// The adder's behaviour: answers each add_request with the sum.
caf::behavior adder(caf::event_based_actor* self);

/// Runs `n` get_reply calls to `target` from one actor of `caller`, keeping
/// `depth` outstanding, and checks every answer; the result is named `name`.
measurement measure_calls(node& caller, const request_stream<add_request>& target, std::uint64_t n,
                          int depth, std::string name);

} // namespace grainflow::bench
