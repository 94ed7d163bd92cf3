#include "grainflow/endpoints/ref_counted.hpp"

namespace grainflow {

// Out of line so the vtable has one home instead of one per translation unit.
ref_counted::~ref_counted() = default;

} // namespace grainflow
