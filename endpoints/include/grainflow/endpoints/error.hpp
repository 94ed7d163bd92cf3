#pragma once

/// @file
/// grainflow's error codes and the registry of error categories that may
/// travel between processes.

#include <string_view>
#include <system_error>
#include <type_traits>

namespace grainflow {

// -- error codes --------------------------------------------------------------

/// Every failure grainflow itself reports. The numbers are part of the wire
/// protocol (an error reply carries them), so they never change and are never
/// reused; a new code is added only when a caller can react to it differently
/// from every existing one.
enum class error : int {
  /// The last holder of a reply promise dropped it without answering. The
  /// request was delivered and the handler may have acted on it; retry only if
  /// the request is idempotent.
  broken_promise = 1,
  /// The connection carrying the request failed before a reply arrived. The
  /// request may or may not have been processed; retry only idempotent
  /// requests, or query the server's state first.
  request_maybe_delivered = 2,
  /// The destination process is alive but holds no endpoint for the token (it
  /// was removed, or never existed). The request was not processed; look the
  /// service up again instead of retrying the same endpoint.
  endpoint_not_found = 3,
  /// No connection to the destination could be established. Nothing was
  /// delivered; retry later or pick another replica.
  connection_failed = 4,
  /// The caller's deadline passed before a reply arrived. The request may have
  /// been processed; retry with a later deadline if the request is idempotent.
  timed_out = 5,
  /// The caller (or shutdown) cancelled the operation; no reply will follow.
  /// Nothing to retry unless the caller still wants the result.
  cancelled = 6,
  /// A value could not be encoded or decoded with msgpack. Retrying the same
  /// value fails the same way; this usually means the two sides disagree on a
  /// type's definition.
  serialization_failed = 7,
  /// A packet's CRC32C did not match its contents; the connection that carried
  /// it was closed. Reliable requests are replayed on the next connection.
  checksum_failed = 8,
  /// A packet is larger than the configured limit. It was not sent (or was
  /// refused); split the payload or raise the limit on both sides.
  packet_too_large = 9,
  /// The peer speaks a protocol version whose major number differs from ours.
  /// Nothing can be exchanged until one side is upgraded.
  incompatible_protocol = 10,
  /// The peer refused the request or the connection on authorization grounds.
  /// Retrying with the same credentials fails the same way.
  unauthorized = 11,
  /// A packet's framing or header is impossible (bad length, unknown field);
  /// the connection was closed. Indicates a bug or corruption on the peer.
  malformed_packet = 12,
  /// A payload decoded into a different message type than the endpoint
  /// expects, usually a client and server built from different interface
  /// declarations. Retrying does not help.
  wrong_message_type = 13,
  /// The local transport was shut down; no further traffic is possible
  /// through it.
  transport_closed = 14,
};

/// Returns the enumerator's name ("broken_promise", ...), or
/// "unknown" for a value that is not an enumerator.
std::string_view to_string(error x) noexcept;

// -- the grainflow category ---------------------------------------------------

/// Returns the category of grainflow's own error codes. Its name() is
/// "grainflow"; message() describes each code and returns
/// "unknown grainflow error" for any other value.
const std::error_category& grainflow_category() noexcept;

/// Wraps `x` into a `std::error_code` of `grainflow_category()`, which lets a
/// `grainflow::error` be compared with and assigned to `std::error_code`.
std::error_code make_error_code(error x) noexcept;

// -- the category registry ----------------------------------------------------

// Why a registry: an error_code is a number plus a pointer to a category
// object, and a pointer means nothing in another process. Error codes
// therefore cross the wire as (category name, value), and the receiver needs
// to map the name back to its own category object. Applications register
// their categories here at startup so their errors survive that trip.

/// Makes `category` findable by its name(). Thread-safe. Registering the same
/// object again does nothing; registering a different category under a name
/// that is already taken keeps the first one (and fails a debug check, since
/// two categories sharing a name cannot be told apart on the wire).
/// Precondition: `category` outlives every later lookup (categories are
/// normally function-local statics, as `grainflow_category()` is).
void register_error_category(const std::error_category& category);

/// Like `register_error_category`, but reports a name clash instead of
/// treating it as a programmer error: returns false when a different category
/// already uses `category.name()`, true otherwise.
[[nodiscard]] bool try_register_error_category(const std::error_category& category);

/// Returns the registered category called `name`, or null. Thread-safe. The
/// grainflow category and the standard library's "generic" and "system"
/// categories are always registered.
const std::error_category* find_error_category(std::string_view name) noexcept;

} // namespace grainflow

/// Marks `grainflow::error` as an error code enum, so `std::error_code ec =
/// grainflow::error::timed_out;` and `ec == grainflow::error::timed_out` work.
template <>
struct std::is_error_code_enum<grainflow::error> : std::true_type {};
