// Secure arena: wiping, growth without moving, guard pages, and the kernel flags on its pages.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>

#include "check.h"
#include "facekit/arena.h"

using facekit::Arena;
using facekit::ArenaOptions;

namespace {

bool all_zero(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    for (std::size_t i = 0; i < size; ++i) {
        if (bytes[i] != 0) return false;
    }
    return true;
}

// The VmFlags line of the /proc/self/smaps entry that contains `address`.
std::string vm_flags_at(std::uintptr_t address) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        std::uintptr_t lo = 0, hi = 0;
        char dash = 0;
        std::istringstream head(line);
        if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
            inside = lo <= address && address < hi;
        } else if (inside && line.rfind("VmFlags:", 0) == 0) {
            return line.substr(8) + " ";
        }
    }
    return "";
}

// Under qemu-user, madvise succeeds without effect and smaps describes the emulator's own view,
// so kernel page flags can only be checked on a real kernel (the host run covers them).
bool emulated() {
    const char* env = std::getenv("FACEKIT_EMULATED");
    if (env != nullptr && *env != '\0') {
        std::printf("  not checked under %s: madvise is a no-op there\n", env);
        return true;
    }
    return false;
}

// AddressSanitizer intercepts mlock and returns success without locking anything.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMlockIsIntercepted = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kMlockIsIntercepted = true;
#else
constexpr bool kMlockIsIntercepted = false;
#endif
#else
constexpr bool kMlockIsIntercepted = false;
#endif

bool has_flag(const std::string& flags, const char* flag) {
    return flags.find(std::string(" ") + flag + " ") != std::string::npos;
}

// Runs `body` in a forked child; returns the signal that killed it (0 if it exited).
template <typename F>
int signal_of_child(F body, int* exit_code = nullptr) {
    const pid_t pid = fork();
    if (pid == 0) {
        body();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

}  // namespace

TEST(arena_allocations_are_aligned_zeroed_and_distinct) {
    Arena arena;
    auto* a = static_cast<std::uint8_t*>(arena.allocate(100, 64));
    auto* b = static_cast<std::uint8_t*>(arena.allocate(1, 256));
    auto* c = static_cast<std::uint8_t*>(arena.allocate(0, 16));
    CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
    CHECK(reinterpret_cast<std::uintptr_t>(b) % 256 == 0);
    CHECK(b >= a + 100 && c > b);
    CHECK(all_zero(a, 100));
    CHECK(arena.used() >= 102);
}

TEST(arena_wipe_zeroes_every_byte_handed_out) {
    Arena arena;
    std::uint8_t* blocks[3];
    const std::size_t sizes[3] = {4096 * 3 + 17, 1, 777};
    for (int i = 0; i < 3; ++i) {
        blocks[i] = static_cast<std::uint8_t*>(arena.allocate(sizes[i]));
        std::memset(blocks[i], 0xA5 + i, sizes[i]);
    }
    arena.wipe();
    for (int i = 0; i < 3; ++i) CHECK(all_zero(blocks[i], sizes[i]));
    CHECK(arena.used() == 0);
    // The next frame starts at the same place: memory is reused, not leaked.
    CHECK(arena.allocate(sizes[0]) == blocks[0]);
}

TEST(arena_grows_by_regions_without_moving_live_data) {
    ArenaOptions options;
    options.region_bytes = 8192;
    Arena arena(options);
    auto* first = static_cast<std::uint8_t*>(arena.allocate(6000));
    std::memset(first, 0x11, 6000);
    auto* second = static_cast<std::uint8_t*>(arena.allocate(6000));  // does not fit: new region
    auto* big = static_cast<std::uint8_t*>(arena.allocate(100000));   // larger than a region
    std::memset(second, 0x22, 6000);
    std::memset(big, 0x33, 100000);
    CHECK(arena.regions().size() == 3);
    CHECK(first[0] == 0x11 && first[5999] == 0x11);  // untouched by growth
    CHECK(arena.capacity() >= 8192 + 8192 + 100000);
    arena.wipe();
    // A frame that needed several regions leaves one, with room for all it took and more: the
    // next such frame fits in it, in order, without mapping anything.
    CHECK(arena.regions().size() == 1);
    CHECK(arena.capacity() >= (6000 + 6000 + 100000) * 5 / 4);  // a quarter to spare
    const auto pool = arena.regions().front();
    const auto inside = [&](const void* p, std::size_t n) {
        const auto at = reinterpret_cast<std::uintptr_t>(p);
        return at >= pool.start && at + n <= pool.start + pool.size;
    };
    auto* again = static_cast<std::uint8_t*>(arena.allocate(6000));
    auto* second_again = static_cast<std::uint8_t*>(arena.allocate(6000));
    auto* big_again = static_cast<std::uint8_t*>(arena.allocate(100000));
    CHECK(inside(again, 6000) && inside(second_again, 6000) && inside(big_again, 100000));
    CHECK(again < second_again && second_again < big_again);
    CHECK(all_zero(again, 6000) && all_zero(second_again, 6000) && all_zero(big_again, 100000));
    CHECK(arena.regions().size() == 1);
    arena.wipe();
    CHECK(arena.regions().size() == 1);  // fitted in one: nothing to merge
}

TEST(arena_wipes_every_region_before_merging_them) {
    ArenaOptions options;
    options.region_bytes = 8192;
    Arena arena(options);
    // Kept alive by a view, so its bytes can be read after the wipe: retired, zeroed, unmerged.
    auto* first = static_cast<std::uint8_t*>(arena.allocate(6000));
    std::memset(first, 0x11, 6000);
    auto view = arena.hold(first);
    auto* big = static_cast<std::uint8_t*>(arena.allocate(100000));
    std::memset(big, 0x33, 100000);
    auto big_view = arena.hold(big);
    arena.wipe();
    CHECK(all_zero(first, 6000) && all_zero(big, 100000));
    CHECK(arena.regions().size() >= 2);  // both retired while viewed, and listed
}

TEST(arena_frame_wipes_on_scope_exit_even_by_exception) {
    Arena arena;
    std::uint8_t* block = nullptr;
    try {
        facekit::ArenaFrame frame(arena);
        block = static_cast<std::uint8_t*>(frame.arena().allocate(512));
        std::memset(block, 0x5A, 512);
        throw std::runtime_error("frame failed");
    } catch (const std::runtime_error&) {
    }
    REQUIRE(block != nullptr);
    CHECK(all_zero(block, 512));
    CHECK(arena.used() == 0);
}

TEST(arena_verify_wipe_mode_passes_after_wipe) {
    ArenaOptions options;
    options.verify_wipe = true;
    Arena arena(options);
    std::memset(arena.allocate(10000), 0xFF, 10000);
    arena.wipe();  // would throw if any byte survived
    CHECK(arena.used() == 0);
}

TEST(arena_rejects_bad_requests) {
    Arena arena;
    CHECK_THROWS_AS(arena.allocate(16, 3), std::invalid_argument);
    CHECK_THROWS_AS(arena.allocate(16, Arena::page_size() * 2), std::invalid_argument);
    CHECK_THROWS_AS(arena.allocate(Arena::kMaxAllocation + 1), std::invalid_argument);
    CHECK_THROWS_AS(arena.allocate_array<double>(SIZE_MAX / 4), std::invalid_argument);
}

TEST(arena_guard_pages_kill_a_writer_with_sigsegv_and_the_parent_survives) {
    Arena arena;
    const facekit::RegionInfo region = arena.regions().at(0);
    auto* start = reinterpret_cast<volatile std::uint8_t*>(region.start);
    CHECK(signal_of_child([&] { start[-1] = 1; }) == SIGSEGV);            // page before
    CHECK(signal_of_child([&] { start[region.size] = 1; }) == SIGSEGV);   // page after
    CHECK(signal_of_child([&] { start[region.size - 1] = 1; }) == 0);     // last usable byte
    start[0] = 7;  // the parent's arena still works
    CHECK(start[0] == 7);
}

TEST(arena_pages_are_dontdump_wipeonfork_and_locked_when_allowed) {
    if (emulated()) return;
    Arena arena;
    const facekit::RegionInfo region = arena.regions().at(0);
    const std::string flags = vm_flags_at(region.start);
    std::printf("  smaps VmFlags of the arena region:%s\n", flags.c_str());
    std::printf("  mlock %s, MADV_DONTDUMP %s, MADV_WIPEONFORK %s\n",
                region.locked ? "took" : "refused", region.dontdump ? "took" : "refused",
                region.wipeonfork ? "took" : "refused");
    REQUIRE(!flags.empty());
    CHECK(region.dontdump && has_flag(flags, "dd"));
    CHECK(region.wipeonfork && has_flag(flags, "wf"));
    if (kMlockIsIntercepted) {
        std::printf("  lock not checked under AddressSanitizer: its mlock locks nothing\n");
    } else {
        CHECK(has_flag(flags, "lo") == region.locked);
        // mlock must succeed when the limit allows the region (or we are privileged).
        rlimit limit{};
        getrlimit(RLIMIT_MEMLOCK, &limit);
        if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= region.size) CHECK(region.locked);
    }
    // The guard pages around it are inaccessible.
    const std::string guard = vm_flags_at(region.start - 1);
    CHECK(!has_flag(guard, "rd") && !has_flag(guard, "wr"));
}

TEST(arena_a_forked_child_reads_zeros) {
    if (emulated()) return;
    Arena arena;
    auto* block = static_cast<std::uint8_t*>(arena.allocate(4096));
    std::memset(block, 0x7E, 4096);
    int code = -1;
    const int sig = signal_of_child([&] { _exit(all_zero(block, 4096) ? 0 : 3); }, &code);
    CHECK(sig == 0 && code == 0);
    CHECK(block[0] == 0x7E);  // the parent keeps its data
}

TEST(arena_lock_can_be_declined) {
    ArenaOptions options;
    options.lock = false;
    Arena arena(options);
    CHECK(!arena.regions().at(0).locked);
    CHECK(!has_flag(vm_flags_at(arena.regions().at(0).start), "lo"));
}

namespace {

std::size_t count_retired(const Arena& arena, bool released) {
    std::size_t n = 0;
    for (const facekit::RegionInfo& r : arena.regions()) n += r.retired && r.released == released;
    return n;
}

// One frame of "work": a few blocks filled with a pattern, the way native stages fill scratch.
std::uint8_t* fill_frame(Arena& arena, std::uint8_t pattern) {
    std::uint8_t* first = nullptr;
    for (std::size_t bytes : {std::size_t{3000}, std::size_t{100}, std::size_t{7000}}) {
        auto* block = static_cast<std::uint8_t*>(arena.allocate(bytes));
        std::memset(block, pattern, bytes);
        if (first == nullptr) first = block;
    }
    return first;
}

}  // namespace

TEST(arena_a_held_view_reads_zeros_whatever_later_frames_write) {
    ArenaOptions options;
    options.region_bytes = 16384;
    Arena arena(options);
    auto* old = static_cast<std::uint8_t*>(arena.allocate(4096));
    std::memset(old, 0x5C, 4096);
    const std::shared_ptr<const void> view = arena.hold(old);
    arena.wipe();
    CHECK(all_zero(old, 4096));
    for (int frame = 0; frame < 20; ++frame) {
        fill_frame(arena, static_cast<std::uint8_t>(0xA0 + frame));
        CHECK(all_zero(old, 4096));  // later frames write elsewhere
        arena.wipe();
    }
    CHECK(all_zero(old, 4096));
    CHECK(count_retired(arena, false) == 1);
    // Retired memory is read-only: a stray native write faults instead of landing there.
    CHECK(signal_of_child([&] { *reinterpret_cast<volatile std::uint8_t*>(old) = 1; }) == SIGSEGV);
}

TEST(arena_without_views_reuses_its_regions_as_before) {
    ArenaOptions options;
    options.region_bytes = 16384;
    Arena arena(options);
    std::uint8_t* first = fill_frame(arena, 0x11);
    arena.wipe();
    CHECK(fill_frame(arena, 0x22) == first);  // scratch only: the same memory, nothing retired
    CHECK(arena.regions().size() == 1 && count_retired(arena, false) == 0);
}

TEST(arena_region_count_stays_bounded_over_200_frames) {
    ArenaOptions options;
    options.region_bytes = 16384;
    Arena arena(options);
    std::size_t most = 0;
    // Views dropped within their frame's life: the retired region comes back at once.
    for (int frame = 0; frame < 200; ++frame) {
        std::shared_ptr<const void> view = arena.hold(fill_frame(arena, 0x33));
        arena.wipe();
        view.reset();
        most = std::max(most, arena.regions().size());
    }
    CHECK(most <= 2);
    // The previous frame's view held until the next frame has been processed (the usual
    // `with ... as result` loop): two regions take turns.
    std::shared_ptr<const void> previous;
    std::uint8_t* previous_block = nullptr;
    most = 0;
    for (int frame = 0; frame < 200; ++frame) {
        std::uint8_t* block = fill_frame(arena, static_cast<std::uint8_t>(frame | 1));
        if (previous_block != nullptr) CHECK(all_zero(previous_block, 3000));
        std::shared_ptr<const void> view = arena.hold(block);
        arena.wipe();
        previous = std::move(view);
        previous_block = block;
        most = std::max(most, arena.regions().size());
    }
    CHECK(most <= 2);
    std::printf("  regions over 200 frames holding the previous frame's view: at most %zu\n", most);
}

TEST(arena_retired_regions_beyond_a_few_give_their_pages_back) {
    ArenaOptions options;
    options.region_bytes = 65536;
    Arena arena(options);
    std::vector<std::shared_ptr<const void>> views;
    std::vector<std::uint8_t*> blocks;
    for (int frame = 0; frame < 10; ++frame) {
        blocks.push_back(fill_frame(arena, 0x7F));
        views.push_back(arena.hold(blocks.back()));
        arena.wipe();
    }
    CHECK(count_retired(arena, false) == Arena::kResidentRetired);
    CHECK(count_retired(arena, true) == 10 - Arena::kResidentRetired);
    for (std::uint8_t* block : blocks) CHECK(all_zero(block, 3000));  // released ones too
    if (!emulated()) {
        // A released region is plain read-only memory now: not locked, nothing resident.
        for (const facekit::RegionInfo& r : arena.regions()) {
            if (!r.released) continue;
            const std::string flags = vm_flags_at(r.start);
            CHECK(has_flag(flags, "rd") && !has_flag(flags, "wr") && !has_flag(flags, "lo"));
        }
    }
    // Once the views are gone, the arena shrinks back to what one frame needs.
    views.clear();
    fill_frame(arena, 0x01);
    arena.wipe();
    CHECK(arena.regions().size() == 1 && count_retired(arena, false) == 0);
}

TEST(arena_a_view_outlives_its_arena_and_reads_zeros) {
    std::shared_ptr<const void> view;
    std::uint8_t* block = nullptr;
    {
        Arena arena;
        block = fill_frame(arena, 0x42);
        view = arena.hold(block);
    }  // the arena wipes and lets go; the viewed region stays mapped for the view
    CHECK(all_zero(block, 3000));
    CHECK(static_cast<const std::uint8_t*>(view.get()) == block);
}

TEST(arena_hold_refuses_memory_it_does_not_own) {
    Arena arena;
    int elsewhere = 0;
    CHECK_THROWS_AS(arena.hold(&elsewhere), std::invalid_argument);
}
