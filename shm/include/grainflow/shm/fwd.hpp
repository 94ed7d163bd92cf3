#pragma once

/// @file
/// Forward declarations of the shm/ types, so that headers can name them
/// without pulling in their definitions.

#include <cstdint>

namespace grainflow::shm {

// -- enums --------------------------------------------------------------------

enum class side : std::uint8_t;
enum class side_state : std::uint32_t;
enum class descriptor_kind : std::uint8_t;
enum class descriptor_fault : std::uint8_t;
enum class ring_status : std::uint8_t;

// -- structs ------------------------------------------------------------------

struct bell;
struct checked_descriptor;
struct descriptor;
struct direction_block;
struct link_config;
struct link_handlers;
struct link_stats;
struct ring_indices;
struct segment_config;
struct segment_geometry;
struct segment_fields;
struct segment_header;
struct side_block;
struct slot_reference;
struct slot_ticket;

// -- classes ------------------------------------------------------------------

class descriptor_checker;
class link;
class link_listener;
class segment;
class slot_pool;

// -- templates ----------------------------------------------------------------

template <class T>
class ring_consumer;

template <class T>
class ring_producer;

} // namespace grainflow::shm
