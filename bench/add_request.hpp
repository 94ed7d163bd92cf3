#pragma once

// The request every grainflow measurement sends: two int32 in, their int32
// sum out — the same payload the CAF and raw-socket baselines carry.

#include "grainflow/actors/reply_promise.hpp"

#include <msgpack.hpp>

#include <cstdint>

namespace grainflow::bench {

struct add_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

} // namespace grainflow::bench
