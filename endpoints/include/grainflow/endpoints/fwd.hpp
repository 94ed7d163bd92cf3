#pragma once

/// @file
/// Forward declarations of the endpoints/ types, so that headers can name them
/// without pulling in their definitions.

#include <cstdint>

namespace grainflow {

// -- enums --------------------------------------------------------------------

enum class error : int;
enum class well_known : std::uint64_t;

// -- classes ------------------------------------------------------------------

class endpoint_map;
class network_address;
class ref_counted;

struct endpoint;
struct uid;
struct uid_hash;

// -- templates ----------------------------------------------------------------

template <class T>
class intrusive_ptr;

} // namespace grainflow
