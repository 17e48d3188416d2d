// Secure frame arena: the only memory that ever holds biometric values.
//
// Each region is a page-aligned mmap with a PROT_NONE guard page on both sides, locked into RAM
// (best effort), excluded from core dumps (MADV_DONTDUMP) and zeroed in forked children
// (MADV_WIPEONFORK) where the kernel allows. Allocation bumps a pointer; the arena grows by
// adding regions, so live data never moves. wipe() zeroes every byte handed out since the last
// wipe with a store the compiler cannot remove, then starts the frame over.
//
// Thread-safety: an Arena is not thread-safe. Each pipeline object owns one arena and uses it
// from one thread at a time (one open frame per arena); run pipelines in parallel, not frames.
#pragma once
#include <cstddef>
#include <cstdint>
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

    // Zeroes every byte handed out since the last wipe and resets the frame. Regions stay
    // mapped (and zero), so views taken earlier read zeros instead of dangling.
    void wipe();

    std::size_t used() const noexcept;      // bytes handed out in this frame, padding included
    std::size_t capacity() const noexcept;  // usable bytes over all regions
    std::vector<RegionInfo> regions() const;
    const ArenaOptions& options() const noexcept { return options_; }

    static std::size_t page_size() noexcept;
    static constexpr std::size_t kMaxAllocation = std::size_t{1} << 30;

private:
    struct Region {
        std::uint8_t* mapping;  // start of the whole mapping, leading guard page included
        std::size_t mapping_size;
        std::uint8_t* base;     // first usable byte
        std::size_t size;
        std::size_t used;
        bool locked, dontdump, wipeonfork;
    };
    Region map_region(std::size_t min_bytes);
    void unmap(Region& region) noexcept;

    ArenaOptions options_;
    std::vector<Region> regions_;
    std::size_t current_ = 0;  // index of the region being filled
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

}  // namespace facekit
