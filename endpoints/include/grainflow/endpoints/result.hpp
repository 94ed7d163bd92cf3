#pragma once

/// @file
/// The one result type of grainflow's public API.

#include <boost/outcome/std_result.hpp>

namespace grainflow {

/// What every fallible grainflow call returns: a `T` or a `std::error_code`
/// (grainflow's own codes, `std::errc` values, or a registered application
/// category). Results are `[[nodiscard]]`; failures never travel as
/// exceptions.
template <class T>
using result = boost::outcome_v2::std_result<T>;

/// Builds a successful result: `return success();` for `result<void>`.
using boost::outcome_v2::success;

/// Builds a failed result from an error code: `return failure(ec);`.
using boost::outcome_v2::failure;

} // namespace grainflow
