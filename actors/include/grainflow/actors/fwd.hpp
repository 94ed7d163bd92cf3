#pragma once

// Forward declarations of actors/ so headers can name each other's types
// without including them.

namespace grainflow {

template <class Rep>
class reply_promise;

template <class Rep>
class reply_future;

template <class Req>
class request_stream;

struct call_options;

class node;

namespace detail {

class promise_core_base;

template <class Rep>
class promise_core;

template <class Rep>
class reply_state;

template <class Rep>
class remote_promise;

} // namespace detail

} // namespace grainflow
