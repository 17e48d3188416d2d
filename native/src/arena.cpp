#include "facekit/arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace facekit {

void secure_zero(void* data, std::size_t size) noexcept {
    if (size != 0) explicit_bzero(data, size);
}

std::size_t Arena::page_size() noexcept {
    static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return page;
}

namespace {

std::size_t round_up(std::size_t value, std::size_t multiple) {
    return (value + multiple - 1) / multiple * multiple;
}

bool advise(void* addr, std::size_t size, int advice) {
    return madvise(addr, size, advice) == 0;
}

}  // namespace

// One mapping: [guard page][usable bytes][guard page].
struct Arena::Region {
    std::uint8_t* mapping = nullptr;  // start of the whole mapping, leading guard page included
    std::size_t mapping_size = 0;
    std::uint8_t* base = nullptr;     // first usable byte
    std::size_t size = 0;
    std::size_t used = 0;
    bool locked = false, dontdump = false, wipeonfork = false;
    bool retired = false, released = false;
    bool leak = false;  // debug_skip_wipe: stays mapped at exit, unwiped, for the audit self-test

    Region() = default;
    Region(const Region&) = delete;
    Region& operator=(const Region&) = delete;
    ~Region() {
        if (mapping == nullptr || leak) return;
        if (!released && !retired) secure_zero(base, used);
        if (locked) munlock(base, size);
        munmap(mapping, mapping_size);
    }
};

Arena::Arena(ArenaOptions options) : options_(options) {
    if (options_.region_bytes == 0) options_.region_bytes = page_size();
    retired_.reserve(1);  // wipe() never allocates: see allocate()
    regions_.push_back(map_region(options_.region_bytes));
}

Arena::~Arena() {
    // Every byte is wiped now; a region a view still holds is retired and unmapped with the
    // last such view (Region's destructor), the others are unmapped here.
    for (RegionPtr& region : regions_) {
        if (options_.debug_skip_wipe) {
            region->leak = true;
            continue;
        }
        secure_zero(region->base, region->used);
        region->used = 0;
        if (viewed(region)) {
            mprotect(region->base, region->size, PROT_READ);
            region->retired = true;
        }
    }
}

Arena::RegionPtr Arena::map_region(std::size_t min_bytes) {
    const std::size_t page = page_size();
    const std::size_t size = round_up(min_bytes, page);
    const std::size_t mapping_size = size + 2 * page;
    // Map everything inaccessible, then open the middle: the outer pages stay as guards.
    void* mapping = mmap(nullptr, mapping_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) throw std::bad_alloc();
    auto region = std::make_shared<Region>();  // from here on, its destructor unmaps
    region->mapping = static_cast<std::uint8_t*>(mapping);
    region->mapping_size = mapping_size;
    region->base = region->mapping + page;
    region->size = size;
    if (mprotect(region->base, size, PROT_READ | PROT_WRITE) != 0) throw std::bad_alloc();
#ifdef MADV_DONTDUMP
    region->dontdump = advise(region->base, size, MADV_DONTDUMP);
#endif
#ifdef MADV_WIPEONFORK
    region->wipeonfork = advise(region->base, size, MADV_WIPEONFORK);
#endif
    if (options_.lock) region->locked = mlock(region->base, size) == 0;
    return region;
}

std::shared_ptr<const void> Arena::hold(const void* data) const {
    const auto* address = static_cast<const std::uint8_t*>(data);
    for (const RegionPtr& region : regions_) {
        if (address >= region->base && address < region->base + region->size)
            return std::shared_ptr<const void>(region, data);  // shares the region's ownership
    }
    throw std::invalid_argument("arena hold: the address is not in this arena's live regions");
}

void Arena::retire(RegionPtr region) noexcept {
    // Read-only: nothing, native code included, can write a later frame where a view reads.
    // If the kernel refuses, the region is still zero and never handed out while viewed.
    mprotect(region->base, region->size, PROT_READ);
    region->retired = true;
    retired_.push_back(std::move(region));  // capacity reserved: see allocate()
    std::size_t resident = 0;
    for (const RegionPtr& r : retired_) resident += r->released ? 0 : 1;
    if (resident > kResidentRetired) release_oldest_retired();
}

void Arena::release_oldest_retired() noexcept {
    for (RegionPtr& region : retired_) {
        if (region->released) continue;
        // Fresh anonymous read-only pages over the (already zeroed) range: the locked pages go
        // back to the kernel, reads come from the shared zero page, the guard pages stay.
        void* fresh = mmap(region->base, region->size, PROT_READ,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (fresh == MAP_FAILED) return;  // stays resident: zero and read-only all the same
        region->released = true;
        region->locked = region->dontdump = region->wipeonfork = false;
        return;
    }
}

bool Arena::reclaim(std::size_t pool_bound) noexcept {
    // Retired regions no view holds any more: resident ones rejoin the pool while it has room,
    // the others are unmapped as the arena lets go of them.
    bool grew = false;
    for (std::size_t i = 0; i < retired_.size();) {
        RegionPtr& region = retired_[i];
        if (viewed(region)) {
            ++i;
            continue;
        }
        if (!region->released && regions_.size() < pool_bound &&
            mprotect(region->base, region->size, PROT_READ | PROT_WRITE) == 0) {
            region->retired = false;
            regions_.push_back(std::move(region));  // capacity reserved: see allocate()
            grew = true;
        }
        retired_.erase(retired_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return grew;
}

void* Arena::allocate(std::size_t bytes, std::size_t alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > page_size())
        throw std::invalid_argument("arena alignment must be a power of two up to one page, got " +
                                    std::to_string(alignment));
    if (bytes > kMaxAllocation)
        throw std::invalid_argument("arena allocation of " + std::to_string(bytes) +
                                    " bytes exceeds the 1 GiB limit");
    if (bytes == 0) bytes = 1;  // distinct, valid pointers even for empty requests
    // First fit from the current region on; regions kept from earlier frames are reused, then
    // retired ones that no view holds any more.
    do {
        for (; current_ < regions_.size(); ++current_) {
            Region& region = *regions_[current_];
            const std::size_t start = round_up(region.used, alignment);
            if (start <= region.size && bytes <= region.size - start) {
                region.used = start + bytes;
                pool_limit_ = std::max(pool_limit_, current_ + 1);
                return region.base + start;
            }
        }
    } while (reclaim(SIZE_MAX));
    // Room for every region in both lists, so that wipe() and reclaim() never allocate.
    const std::size_t total = regions_.size() + retired_.size() + 1;
    regions_.reserve(total);
    retired_.reserve(total);
    const std::size_t want = bytes > options_.region_bytes ? bytes : options_.region_bytes;
    regions_.push_back(map_region(want));
    current_ = regions_.size() - 1;
    pool_limit_ = std::max(pool_limit_, current_ + 1);
    Region& region = *regions_.back();
    region.used = bytes;  // a fresh region is page-aligned, so any alignment holds at offset 0
    return region.base;
}

void Arena::wipe() {
    std::size_t frame_bytes = 0;  // what this frame took, alignment gaps included
    for (const RegionPtr& region : regions_) frame_bytes += region->used;
    for (RegionPtr& region : regions_) {
        // debug_skip_wipe (audit self-test) zeroes nothing, so verify_wipe must catch it.
        if (!options_.debug_skip_wipe) secure_zero(region->base, region->used);
        if (options_.verify_wipe) {
            for (std::size_t i = 0; i < region->used; ++i) {
                if (region->base[i] != 0)
                    throw std::runtime_error("arena wipe verification failed: a byte is not zero");
            }
        }
        region->used = 0;
    }
    if (options_.debug_skip_wipe) {  // nothing retired either
        current_ = 0;
        return;
    }
    // Regions a view still reads leave the pool, so the next frames write elsewhere.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < regions_.size(); ++i) {
        if (viewed(regions_[i]))
            retire(std::move(regions_[i]));
        else if (i != kept)
            regions_[kept++] = std::move(regions_[i]);
        else
            ++kept;
    }
    regions_.resize(kept);
    reclaim(pool_limit_);
    // The pool keeps what one frame has needed at most; the rest (zero already) is unmapped.
    while (regions_.size() > pool_limit_) regions_.pop_back();
    consolidate(frame_bytes);
    current_ = 0;
}

void Arena::consolidate(std::size_t frame_bytes) noexcept {
    // A pool grown a request at a time over frames of growing needs holds many regions, each
    // the size of a request that fitted nowhere then (a 1080p beauty run: 39 regions, 41 MiB).
    // Once a frame has needed several, they become one region with a quarter to spare.
    if (regions_.size() < 2) return;
    const std::size_t want = round_up(frame_bytes + frame_bytes / 4, page_size());
    RegionPtr single;
    try {
        single = map_region(std::max(want, options_.region_bytes));
    } catch (...) {
        return;  // no memory for the new one: keep the pool as it is
    }
    regions_.clear();  // every one wiped and unviewed: each is unmapped here
    regions_.push_back(std::move(single));  // clear() kept the capacity
    pool_limit_ = 1;
}

std::size_t Arena::used() const noexcept {
    std::size_t total = 0;
    for (const RegionPtr& region : regions_) total += region->used;
    return total;
}

std::size_t Arena::capacity() const noexcept {
    std::size_t total = 0;
    for (const RegionPtr& region : regions_) total += region->size;
    return total;
}

std::vector<RegionInfo> Arena::regions() const {
    std::vector<RegionInfo> out;
    out.reserve(regions_.size() + retired_.size());
    for (const auto* list : {&regions_, &retired_}) {
        for (const RegionPtr& r : *list) {
            out.push_back({reinterpret_cast<std::uintptr_t>(r->base), r->size, r->used, r->locked,
                           r->dontdump, r->wipeonfork, r->retired, r->released});
        }
    }
    return out;
}

}  // namespace facekit
