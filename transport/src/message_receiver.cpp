#include "grainflow/transport/message_receiver.hpp"

namespace grainflow {

message_receiver::~message_receiver() = default;

const std::type_info* message_receiver::local_type() const noexcept {
  return nullptr;
}

} // namespace grainflow
