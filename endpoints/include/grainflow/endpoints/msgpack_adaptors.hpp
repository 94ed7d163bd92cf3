#pragma once

/// @file
/// msgpack adaptors for uid, network_address, endpoint and std::error_code, so
/// user messages can carry them as members (MSGPACK_DEFINE) and error replies
/// can carry error codes.
///
/// Wire forms:
/// - uid: array [first (uint), second (uint)].
/// - network_address: array [family (uint, 4 or 6), address (bin, 4 or 16
///   bytes, network order), port (uint <= 65535)]; the invalid address is nil.
/// - endpoint: array [address, token].
/// - std::error_code: array [category name (str), value (int)]. The receiver
///   maps the name back to a category with `find_error_category`, so only
///   registered categories survive the trip (see error.hpp).
///
/// Decoding malformed input (wrong type, wrong array size, an unknown family,
/// a byte string of the wrong length, an out-of-range number, an unregistered
/// category) throws `msgpack::type_error`, msgpack's own way of reporting a
/// conversion failure; the transport catches it and answers with
/// `error::serialization_failed`. Decoding never reads out of bounds and never
/// aborts.

#include "grainflow/endpoints/endpoint.hpp"
#include "grainflow/endpoints/network_address.hpp"
#include "grainflow/endpoints/uid.hpp"

#include <msgpack.hpp>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>

namespace grainflow::detail {

/// Decodes a uid; throws msgpack::type_error when `x` is malformed.
uid uid_from_msgpack(const msgpack::object& x);

/// Decodes a network_address; throws msgpack::type_error when `x` is
/// malformed.
network_address network_address_from_msgpack(const msgpack::object& x);

/// Decodes an endpoint; throws msgpack::type_error when `x` is malformed.
endpoint endpoint_from_msgpack(const msgpack::object& x);

/// Decodes an error code; throws msgpack::type_error when `x` is malformed or
/// names an unregistered category.
std::error_code error_code_from_msgpack(const msgpack::object& x);

/// Encodes `x` into `out`, allocating in `out.zone`.
void uid_to_msgpack(msgpack::object::with_zone& out, const uid& x);

/// Encodes `x` into `out`, allocating in `out.zone`.
void network_address_to_msgpack(msgpack::object::with_zone& out, const network_address& x);

/// Encodes `x` into `out`, allocating in `out.zone`.
void endpoint_to_msgpack(msgpack::object::with_zone& out, const endpoint& x);

/// Encodes `x` into `out`, allocating in `out.zone`.
void error_code_to_msgpack(msgpack::object::with_zone& out, const std::error_code& x);

} // namespace grainflow::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  // -- uid ----------------------------------------------------------------------

  /// Decodes a grainflow::uid.
  template <>
  struct convert<grainflow::uid> {
    const msgpack::object& operator()(const msgpack::object& o, grainflow::uid& v) const {
      v = grainflow::detail::uid_from_msgpack(o);
      return o;
    }
  };

  /// Encodes a grainflow::uid.
  template <>
  struct pack<grainflow::uid> {
    template <class Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const grainflow::uid& v) const {
      o.pack_array(2);
      o.pack_uint64(v.first);
      o.pack_uint64(v.second);
      return o;
    }
  };

  /// Builds a msgpack::object from a grainflow::uid.
  template <>
  struct object_with_zone<grainflow::uid> {
    void operator()(msgpack::object::with_zone& o, const grainflow::uid& v) const {
      grainflow::detail::uid_to_msgpack(o, v);
    }
  };

  // -- network_address ----------------------------------------------------------

  /// Decodes a grainflow::network_address.
  template <>
  struct convert<grainflow::network_address> {
    const msgpack::object& operator()(const msgpack::object& o,
                                      grainflow::network_address& v) const {
      v = grainflow::detail::network_address_from_msgpack(o);
      return o;
    }
  };

  /// Encodes a grainflow::network_address.
  template <>
  struct pack<grainflow::network_address> {
    template <class Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o,
                                        const grainflow::network_address& v) const {
      if (!v.valid()) {
        o.pack_nil();
        return o;
      }
      // IPv4 travels as its 4 bytes, not IPv4-mapped: the wire should not
      // depend on how this class happens to store it.
      const std::uint32_t size = v.is_v4() ? 4 : 16;
      o.pack_array(3);
      o.pack_uint8(v.is_v4() ? 4 : 6);
      o.pack_bin(size);
      o.pack_bin_body(reinterpret_cast<const char*>(v.bytes().data() + 16 - size), size);
      o.pack_uint16(v.port());
      return o;
    }
  };

  /// Builds a msgpack::object from a grainflow::network_address.
  template <>
  struct object_with_zone<grainflow::network_address> {
    void operator()(msgpack::object::with_zone& o, const grainflow::network_address& v) const {
      grainflow::detail::network_address_to_msgpack(o, v);
    }
  };

  // -- endpoint -----------------------------------------------------------------

  /// Decodes a grainflow::endpoint.
  template <>
  struct convert<grainflow::endpoint> {
    const msgpack::object& operator()(const msgpack::object& o, grainflow::endpoint& v) const {
      v = grainflow::detail::endpoint_from_msgpack(o);
      return o;
    }
  };

  /// Encodes a grainflow::endpoint.
  template <>
  struct pack<grainflow::endpoint> {
    template <class Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o,
                                        const grainflow::endpoint& v) const {
      o.pack_array(2);
      o.pack(v.address);
      o.pack(v.token);
      return o;
    }
  };

  /// Builds a msgpack::object from a grainflow::endpoint.
  template <>
  struct object_with_zone<grainflow::endpoint> {
    void operator()(msgpack::object::with_zone& o, const grainflow::endpoint& v) const {
      grainflow::detail::endpoint_to_msgpack(o, v);
    }
  };

  // -- std::error_code ----------------------------------------------------------

  /// Decodes a std::error_code whose category is registered.
  template <>
  struct convert<std::error_code> {
    const msgpack::object& operator()(const msgpack::object& o, std::error_code& v) const {
      v = grainflow::detail::error_code_from_msgpack(o);
      return o;
    }
  };

  /// Encodes a std::error_code as its category's name and its value.
  template <>
  struct pack<std::error_code> {
    template <class Stream>
    msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o,
                                        const std::error_code& v) const {
      std::string_view name = v.category().name();
      const auto size = static_cast<std::uint32_t>(name.size());
      o.pack_array(2);
      o.pack_str(size);
      o.pack_str_body(name.data(), size);
      o.pack_int(v.value());
      return o;
    }
  };

  /// Builds a msgpack::object from a std::error_code.
  template <>
  struct object_with_zone<std::error_code> {
    void operator()(msgpack::object::with_zone& o, const std::error_code& v) const {
      grainflow::detail::error_code_to_msgpack(o, v);
    }
  };

  } // namespace adaptor
} // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
} // namespace msgpack
