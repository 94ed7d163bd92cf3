// The SPSC ring halves. Invariants: INV-RING-01..04 in shm_link.spec.md.

#include "grainflow/shm/spsc_ring.hpp"

#include "grainflow/shm/descriptor.hpp"

#include "shm_check.hpp"

#include <cstring>

namespace grainflow::shm {

// -- producer -----------------------------------------------------------------

template <class T>
ring_producer<T>::ring_producer(ring_indices& indices, T* entries, std::uint32_t capacity) noexcept
    : indices_(&indices)
    , entries_(entries)
    , mask_(capacity - 1)
    , capacity_(capacity) {
  GRAINFLOW_SHM_INVARIANT(capacity != 0 && (capacity & (capacity - 1)) == 0,
                          "precondition: a power of two");
  // Relaxed: this side is the head's only writer; at construction no other
  // thread of ours has touched it.
  head_ = indices.head.load(std::memory_order_relaxed);
  published_ = head_;
  cached_tail_ = head_;
}

template <class T>
ring_status ring_producer<T>::refresh(std::memory_order order, std::uint64_t needed) noexcept {
  // One load, then only the copy is used (INV-RING-03): the peer may change
  // the shared tail at any moment.
  const std::uint64_t tail = indices_->tail.load(order);
  // Unsigned distance: a tail ahead of our head wraps to a huge number.
  if (head_ - tail > capacity_)
    return ring_status::corrupt;
  cached_tail_ = tail;
  return capacity_ - (head_ - cached_tail_) >= needed ? ring_status::ok : ring_status::full;
}

template <class T>
ring_status ring_producer<T>::reserve(std::uint64_t needed) noexcept {
  if (capacity_ - (head_ - cached_tail_) >= needed)
    return ring_status::ok;
  // Acquire: pairs with the consumer's release of the tail, so its copies
  // of the entries we are about to overwrite are complete (INV-RING-02).
  return refresh(std::memory_order_acquire, needed);
}

template <class T>
ring_status ring_producer<T>::try_stage(const T& value) noexcept {
  if (auto status = reserve(1); status != ring_status::ok)
    return status;
  GRAINFLOW_SHM_INVARIANT(head_ - cached_tail_ < capacity_, "INV-RING-01");
  std::memcpy(static_cast<void*>(entries_ + (head_ & mask_)), &value, sizeof(T));
  ++head_;
  return ring_status::ok;
}

template <class T>
void ring_producer<T>::publish() noexcept {
  if (published_ == head_)
    return;
  GRAINFLOW_SHM_INVARIANT(head_ - published_ <= capacity_, "INV-RING-01");
  // seq_cst: release publishes the staged entries (INV-RING-02), and the
  // total order with the sleeper's seq_cst announcement is what the doorbell
  // relies on (INV-BELL-01).
  indices_->head.store(head_, std::memory_order_seq_cst);
  published_ = head_;
}

template <class T>
ring_status ring_producer<T>::try_push(const T& value) noexcept {
  const auto status = try_stage(value);
  if (status == ring_status::ok)
    publish();
  return status;
}

// -- consumer -----------------------------------------------------------------

template <class T>
ring_consumer<T>::ring_consumer(ring_indices& indices, const T* entries,
                                std::uint32_t capacity) noexcept
    : indices_(&indices)
    , entries_(entries)
    , mask_(capacity - 1)
    , capacity_(capacity) {
  GRAINFLOW_SHM_INVARIANT(capacity != 0 && (capacity & (capacity - 1)) == 0,
                          "precondition: a power of two");
  // Relaxed: this side is the tail's only writer.
  tail_ = indices.tail.load(std::memory_order_relaxed);
  cached_head_ = tail_;
}

template <class T>
ring_status ring_consumer<T>::refresh(std::memory_order order) noexcept {
  // One load, then only the copy (INV-RING-03).
  const std::uint64_t head = indices_->head.load(order);
  if (head - tail_ > capacity_)
    return ring_status::corrupt;
  cached_head_ = head;
  return head == tail_ ? ring_status::empty : ring_status::ok;
}

template <class T>
T ring_consumer<T>::read(std::uint64_t i) const noexcept {
  GRAINFLOW_SHM_INVARIANT(i < cached_head_ - tail_, "precondition: i < readable()");
  // A copy: the caller checks and uses this copy only, never the ring entry,
  // which a hostile producer could rewrite meanwhile (INV-RING-03).
  T copy;
  std::memcpy(static_cast<void*>(&copy), entries_ + ((tail_ + i) & mask_), sizeof(T));
  return copy;
}

template <class T>
void ring_consumer<T>::pop(std::uint64_t n, std::memory_order order) noexcept {
  GRAINFLOW_SHM_INVARIANT(n <= cached_head_ - tail_, "INV-RING-01");
  GRAINFLOW_SHM_INVARIANT(order == std::memory_order_seq_cst || order == std::memory_order_release,
                          "precondition: a publishing order");
  if (n == 0)
    return;
  tail_ += n;
  // At least release: hands the entries back only after our copies of them
  // (INV-RING-02). seq_cst where a sender may sleep for room (INV-BELL-01).
  indices_->tail.store(tail_, order);
}

template class ring_producer<descriptor>;
template class ring_producer<std::uint64_t>;
template class ring_consumer<descriptor>;
template class ring_consumer<std::uint64_t>;

} // namespace grainflow::shm
