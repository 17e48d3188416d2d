// Secure frame arena: the only memory that ever holds biometric values.
//
// Each region is a page-aligned mmap with a PROT_NONE guard page on both sides, locked into RAM
// (best effort), excluded from core dumps (MADV_DONTDUMP) and zeroed in forked children
// (MADV_WIPEONFORK) where the kernel allows. Allocation bumps a pointer; the arena grows by
// adding regions, so live data never moves. wipe() zeroes every byte handed out since the last
// wipe with a store the compiler cannot remove, then starts the frame over.
//
// Views (Python arrays over arena memory) hold their region through hold(). At wipe() a region
// that a view still holds is retired: zeroed, made read-only and never handed out again while a
// view holds it, so an old view reads zeros for ever, whatever later frames write. A retired
// region goes back to the pool once no view holds it; beyond kResidentRetired retired regions,
// the oldest give their physical pages back (read-only zero pages stay mapped in their place).
//
// Thread-safety: an Arena is not thread-safe. Each pipeline object owns one arena and uses it
// from one thread at a time (one open frame per arena); run pipelines in parallel, not frames.
// Handles from hold() may be released from any thread.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace facekit {

// Zeroes memory in a way the optimizer may not elide (explicit_bzero).
void secure_zero(void* data, std::size_t size) noexcept;

struct ArenaOptions {
    std::size_t region_bytes = std::size_t{1} << 20;  // size of each new region (rounded to pages)
    bool lock = true;          // try mlock; failure is reported, never fatal
    bool verify_wipe = false;  // audit mode: re-read every wiped byte and throw if one is not zero
    // Audit self-test only (FACEKIT_DEBUG_SKIP_WIPE=1): wipe() starts the frame over without
    // zeroing, so `facekit audit` can show that its memory scan catches a missing wipe.
    bool debug_skip_wipe = false;
};

// What the kernel granted for one region.
struct RegionInfo {
    std::uintptr_t start;  // first usable byte (page-aligned; guard pages lie on either side)
    std::size_t size;      // usable bytes
    std::size_t used;      // bytes handed out in the current frame
    bool locked;           // mlock succeeded
    bool dontdump;         // MADV_DONTDUMP took
    bool wipeonfork;       // MADV_WIPEONFORK took
    bool retired;          // zeroed and read-only, kept mapped for views of an ended frame
    bool released;         // retired with its pages given back (reads come from zero pages)
};

class Arena {
public:
    explicit Arena(ArenaOptions options = {});
    ~Arena();  // wipes, unlocks and unmaps every region
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    // `bytes` of zeroed memory aligned to `alignment` (a power of two up to one page).
    // Throws std::bad_alloc if the kernel refuses a region, std::invalid_argument for a request
    // over kMaxAllocation or a bad alignment.
    void* allocate(std::size_t bytes, std::size_t alignment = 64);
    template <typename T>
    T* allocate_array(std::size_t count) {
        if (count > kMaxAllocation / sizeof(T)) return static_cast<T*>(allocate(kMaxAllocation + 1));
        return static_cast<T*>(allocate(count * sizeof(T), alignof(T) > 64 ? alignof(T) : 64));
    }

    // A handle that keeps the region holding `data` (memory this arena handed out in the
    // current frame) mapped while it lives, and marks that region as viewed: wipe() retires a
    // viewed region instead of reusing it. Bindings give one to every array over arena memory;
    // native scratch needs none. std::invalid_argument if `data` is not in a live region.
    std::shared_ptr<const void> hold(const void* data) const;

    // Zeroes every byte handed out since the last wipe and resets the frame. Regions that a
    // hold() handle still references are retired (see above): views taken earlier read zeros
    // for ever instead of dangling or showing a later frame.
    void wipe();

    std::size_t used() const noexcept;      // bytes handed out in this frame, padding included
    std::size_t capacity() const noexcept;  // usable bytes over the live regions
    std::vector<RegionInfo> regions() const;  // live regions, then retired ones
    const ArenaOptions& options() const noexcept { return options_; }

    static std::size_t page_size() noexcept;
    static constexpr std::size_t kMaxAllocation = std::size_t{1} << 30;
    // Retired regions that keep their (locked, zeroed) pages for quick reuse; the usual loop
    // that holds the previous frame's result needs one.
    static constexpr std::size_t kResidentRetired = 2;

private:
    struct Region;  // one mapping; unmapped when the arena and every view have let go of it
    using RegionPtr = std::shared_ptr<Region>;
    RegionPtr map_region(std::size_t min_bytes);
    // The arena holds one reference to each region and every hold() handle adds one. A handle
    // released on another thread meanwhile can only make this stale-true: reuse comes later.
    static bool viewed(const RegionPtr& region) noexcept { return region.use_count() > 1; }
    void retire(RegionPtr region) noexcept;
    void release_oldest_retired() noexcept;
    bool reclaim(std::size_t pool_bound) noexcept;
    void consolidate(std::size_t frame_bytes) noexcept;

    ArenaOptions options_;
    std::vector<RegionPtr> regions_;  // live regions, filled in order each frame
    std::vector<RegionPtr> retired_;  // zeroed, read-only, still viewed; oldest first
    std::size_t current_ = 0;         // index of the region being filled
    std::size_t pool_limit_ = 1;      // most live regions one frame has used: the pool's bound
};

// RAII frame: wipes its arena when it goes out of scope, however the scope ends.
class ArenaFrame {
public:
    explicit ArenaFrame(Arena& arena) noexcept : arena_(arena) {}
    ~ArenaFrame() { arena_.wipe(); }
    ArenaFrame(const ArenaFrame&) = delete;
    ArenaFrame& operator=(const ArenaFrame&) = delete;
    Arena& arena() noexcept { return arena_; }

private:
    Arena& arena_;
};

// A standard allocator over an Arena, for containers of landmark-derived values: a std::vector
// on the C heap would leave its contents behind when freed. Nothing is freed here; the frame's
// wipe clears it all.
template <typename T>
struct ArenaAllocator {
    using value_type = T;
    Arena* arena;
    explicit ArenaAllocator(Arena& a) noexcept : arena(&a) {}
    template <typename U>
    ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena(other.arena) {}
    T* allocate(std::size_t n) { return arena->allocate_array<T>(n); }
    void deallocate(T*, std::size_t) noexcept {}
    template <typename U>
    bool operator==(const ArenaAllocator<U>& o) const noexcept { return arena == o.arena; }
    template <typename U>
    bool operator!=(const ArenaAllocator<U>& o) const noexcept { return arena != o.arena; }
};
template <typename T>
using ArenaVector = std::vector<T, ArenaAllocator<T>>;

}  // namespace facekit
