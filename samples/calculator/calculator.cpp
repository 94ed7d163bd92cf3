#include "calculator.hpp"

#include <caf/all.hpp>

#include <limits>

namespace calc {

namespace {

class category final : public std::error_category {
public:
  const char* name() const noexcept override { return "calculator"; }
  std::string message(int code) const override {
    switch (static_cast<calculator_error>(code)) {
    case calculator_error::division_by_zero:
      return "division by zero";
    case calculator_error::overflow:
      return "the result does not fit in 32 bits";
    }
    return "unknown calculator error";
  }
};

// Answers `value` if it fits in an int32, overflow otherwise.
template <class Request>
void answer(Request& request, std::int64_t value) {
  if (value < std::numeric_limits<std::int32_t>::min() ||
      value > std::numeric_limits<std::int32_t>::max())
    request.reply.send_error(calculator_error::overflow);
  else
    request.reply.send(static_cast<std::int32_t>(value));
}

} // namespace

const std::error_category& calculator_category() noexcept {
  static const category instance;
  return instance;
}

caf::behavior calculator_server(caf::event_based_actor*) {
  return {
      [](add_request& r) { answer(r, std::int64_t{r.a} + r.b); },
      [](sub_request& r) { answer(r, std::int64_t{r.a} - r.b); },
      [](mul_request& r) { answer(r, std::int64_t{r.a} * r.b); },
      [](div_request& r) {
        if (r.b == 0)
          r.reply.send_error(calculator_error::division_by_zero);
        else
          answer(r, std::int64_t{r.a} / r.b);
      },
  };
}

grainflow::result<calculator> spawn_calculator(grainflow::node& node) {
  // Registered once so that the error can be decoded by name when it comes
  // back serialized.
  grainflow::register_error_category(calculator_category());
  auto server = node.system().spawn(calculator_server);
  return grainflow::serve<calculator>(server, node.transport());
}

} // namespace calc
