#pragma once

// Everything a user of grainflow's actor API needs, in one include.

#include "grainflow/actors/caf_binding.hpp"
#include "grainflow/actors/call_options.hpp"
#include "grainflow/actors/interface.hpp"
#include "grainflow/actors/name_registry.hpp"
#include "grainflow/actors/node.hpp"
#include "grainflow/actors/reply_future.hpp"
#include "grainflow/actors/reply_promise.hpp"
#include "grainflow/actors/request_stream.hpp"
#include "grainflow/actors/serialization.hpp"
