#pragma once

#include "grainflow/actors/request_stream.hpp"

#include <concepts>
#include <cstddef>

namespace grainflow {

/// An interface: a struct of request streams, served together by one actor,
/// travelling as one endpoint. Method numbers are explicit, so reordering
/// members never changes the wire:
///
/// ~~~
/// struct calculator {
///   request_stream<add_request> add;
///   request_stream<div_request> div;
///   static constexpr std::size_t method_count = 2;
///   template <class F> void visit_methods(F&& f) { f(add, 0); f(div, 1); }
/// };
/// ~~~
///
/// Method i answers at the base endpoint adjusted by i; numbers must be
/// 0..method_count-1, each once (checked when the interface is served).
template <class I>
concept interface_type = std::is_default_constructible_v<I> && requires(I& iface) {
  { I::method_count } -> std::convertible_to<std::size_t>;
  iface.visit_methods([](auto&, std::size_t) {});
};

/// The endpoint an interface travels as: its method 0.
template <interface_type I>
endpoint base_endpoint(const I& iface) {
  endpoint base;
  const_cast<I&>(iface).visit_methods([&](auto& stream, std::size_t method) {
    if (method == 0)
      base = stream.get_endpoint();
  });
  return base;
}

/// A client's copy of an interface served at `base` (in this process or
/// another).
template <interface_type I>
I interface_at(flow_transport& transport, const endpoint& base) {
  I iface;
  iface.visit_methods([&](auto& stream, std::size_t method) {
    using stream_type = std::decay_t<decltype(stream)>;
    stream = stream_type{transport, base.adjusted(static_cast<std::uint32_t>(method))};
  });
  return iface;
}

} // namespace grainflow

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  /// An interface travels as one endpoint, its base.
  template <grainflow::interface_type I>
  struct pack<I> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& out, const I& x) const {
      return out.pack(grainflow::base_endpoint(x));
    }
  };

  template <grainflow::interface_type I>
  struct convert<I> {
    const msgpack::object& operator()(const msgpack::object& in, I& x) const {
      auto* context = grainflow::detail::current_unpack_context();
      if (context == nullptr || context->transport == nullptr)
        throw msgpack::type_error{};
      x = grainflow::interface_at<I>(*context->transport, in.as<grainflow::endpoint>());
      return in;
    }
  };

  } // namespace adaptor
}
} // namespace msgpack
