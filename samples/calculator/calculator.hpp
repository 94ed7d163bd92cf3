#pragma once

// The calculator interface: four methods with explicit numbers, and an
// application error category of its own so a caller can tell "you divided
// by zero" apart from anything the transport reports.

#include "grainflow/actors/all.hpp"

#include <caf/fwd.hpp>
#include <msgpack.hpp>

#include <cstdint>
#include <system_error>

namespace calc {

/// Errors the calculator itself reports (not the transport's).
enum class calculator_error : int {
  division_by_zero = 1,
  overflow = 2,
};

/// The category travels by its name, "calculator".
const std::error_category& calculator_category() noexcept;

inline std::error_code make_error_code(calculator_error code) noexcept {
  return {static_cast<int>(code), calculator_category()};
}

/// One request type per method; each answers an int32.
struct add_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  grainflow::reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

struct sub_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  grainflow::reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

struct mul_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  grainflow::reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

struct div_request {
  std::int32_t a = 0;
  std::int32_t b = 0;
  grainflow::reply_promise<std::int32_t> reply;
  MSGPACK_DEFINE(a, b, reply)
};

/// The interface: method numbers are part of the wire, never reorder them.
struct calculator {
  grainflow::request_stream<add_request> add;
  grainflow::request_stream<sub_request> sub;
  grainflow::request_stream<mul_request> mul;
  grainflow::request_stream<div_request> div;

  static constexpr std::size_t method_count = 4;

  template <class F>
  void visit_methods(F&& f) {
    f(add, 0);
    f(sub, 1);
    f(mul, 2);
    f(div, 3);
  }
};

/// The server's behaviour: handles each request type in the actor.
caf::behavior calculator_server(caf::event_based_actor* self);

/// Spawns a calculator actor on `node` and serves its interface.
grainflow::result<calculator> spawn_calculator(grainflow::node& node);

} // namespace calc

template <>
struct std::is_error_code_enum<calc::calculator_error> : std::true_type {};
