#include "grainflow/actors/detail/serialization_context.hpp"

namespace grainflow::detail {

namespace {

// One decode at a time per thread; nested decodes (a payload decoded while
// another one is) stack through unpack_scope::previous_.
thread_local unpack_context* current_context = nullptr;

} // namespace

unpack_context* current_unpack_context() noexcept {
  return current_context;
}

unpack_scope::unpack_scope(flow_transport& transport) noexcept
    : context_{}
    , previous_(current_context) {
  context_.transport = &transport;
  current_context = &context_;
}

unpack_scope::~unpack_scope() {
  current_context = previous_;
  if (!committed_)
    context_.disarm_created();
}

void unpack_context::disarm_created() noexcept {
  if (first_core)
    first_core->disarm();
  for (auto& core : more_cores)
    core->disarm();
}

} // namespace grainflow::detail
