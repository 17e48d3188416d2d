#include "facekit/arena.h"

#include <sys/mman.h>
#include <unistd.h>

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

Arena::Arena(ArenaOptions options) : options_(options) {
    if (options_.region_bytes == 0) options_.region_bytes = page_size();
    regions_.push_back(map_region(options_.region_bytes));
}

Arena::~Arena() {
    for (Region& region : regions_) {
        if (options_.debug_skip_wipe) {
            region.used = 0;
            continue;
        }
        secure_zero(region.base, region.used);
        unmap(region);
    }
}

Arena::Region Arena::map_region(std::size_t min_bytes) {
    const std::size_t page = page_size();
    const std::size_t size = round_up(min_bytes, page);
    const std::size_t mapping_size = size + 2 * page;
    // Map everything inaccessible, then open the middle: the outer pages stay as guards.
    void* mapping = mmap(nullptr, mapping_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) throw std::bad_alloc();
    auto* bytes = static_cast<std::uint8_t*>(mapping);
    std::uint8_t* base = bytes + page;
    if (mprotect(base, size, PROT_READ | PROT_WRITE) != 0) {
        munmap(mapping, mapping_size);
        throw std::bad_alloc();
    }
    Region region{bytes, mapping_size, base, size, 0, false, false, false};
#ifdef MADV_DONTDUMP
    region.dontdump = advise(base, size, MADV_DONTDUMP);
#endif
#ifdef MADV_WIPEONFORK
    region.wipeonfork = advise(base, size, MADV_WIPEONFORK);
#endif
    if (options_.lock) region.locked = mlock(base, size) == 0;
    return region;
}

void Arena::unmap(Region& region) noexcept {
    if (region.locked) munlock(region.base, region.size);
    munmap(region.mapping, region.mapping_size);
    region.mapping = region.base = nullptr;
}

void* Arena::allocate(std::size_t bytes, std::size_t alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > page_size())
        throw std::invalid_argument("arena alignment must be a power of two up to one page, got " +
                                    std::to_string(alignment));
    if (bytes > kMaxAllocation)
        throw std::invalid_argument("arena allocation of " + std::to_string(bytes) +
                                    " bytes exceeds the 1 GiB limit");
    if (bytes == 0) bytes = 1;  // distinct, valid pointers even for empty requests
    // First fit from the current region on; regions kept from earlier frames are reused.
    for (; current_ < regions_.size(); ++current_) {
        Region& region = regions_[current_];
        const std::size_t start = round_up(region.used, alignment);
        if (start <= region.size && bytes <= region.size - start) {
            region.used = start + bytes;
            return region.base + start;
        }
    }
    const std::size_t want = bytes > options_.region_bytes ? bytes : options_.region_bytes;
    regions_.reserve(regions_.size() + 1);  // so push_back cannot throw and leak the mapping
    regions_.push_back(map_region(want));
    current_ = regions_.size() - 1;
    Region& region = regions_.back();
    region.used = bytes;  // a fresh region is page-aligned, so any alignment holds at offset 0
    return region.base;
}

void Arena::wipe() {
    for (Region& region : regions_) {
        if (options_.debug_skip_wipe) {
            region.used = 0;
            continue;
        }
        secure_zero(region.base, region.used);
        if (options_.verify_wipe) {
            for (std::size_t i = 0; i < region.used; ++i) {
                if (region.base[i] != 0)
                    throw std::runtime_error("arena wipe verification failed: a byte is not zero");
            }
        }
        region.used = 0;
    }
    current_ = 0;
}

std::size_t Arena::used() const noexcept {
    std::size_t total = 0;
    for (const Region& region : regions_) total += region.used;
    return total;
}

std::size_t Arena::capacity() const noexcept {
    std::size_t total = 0;
    for (const Region& region : regions_) total += region.size;
    return total;
}

std::vector<RegionInfo> Arena::regions() const {
    std::vector<RegionInfo> out;
    out.reserve(regions_.size());
    for (const Region& r : regions_) {
        out.push_back({reinterpret_cast<std::uintptr_t>(r.base), r.size, r.used, r.locked,
                       r.dontdump, r.wipeonfork});
    }
    return out;
}

}  // namespace facekit
