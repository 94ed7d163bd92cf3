#pragma once

#include "grainflow/transport/message_receiver.hpp"
#include "grainflow/transport/providers.hpp"

#include <optional>
#include <typeinfo>

namespace grainflow {

/// A receiver of one C++ type. Senders in the same process hand it the
/// object itself — moved, never serialized, without the network thread —
/// after checking `local_type()`; packets take `receive_serialized`.
template <class T>
class typed_receiver : public message_receiver {
public:
  const std::type_info* local_type() const noexcept final { return &typeid(T); }

  /// Same-process delivery. `deadline` is the caller's, if it set one.
  virtual void receive_local(T&& message, std::optional<time_point> deadline) noexcept = 0;
};

} // namespace grainflow
