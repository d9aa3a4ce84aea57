// The CUDA emulator's launch machinery (emu.h): each CUDA thread of a block is a fiber with its own
// stack, run by a round-robin scheduler on the calling host thread until it finishes or waits at a
// barrier (__syncthreads, or a warp's shuffle). A fiber that finishes gives its stack back, so a
// kernel without barriers runs its threads one after another on one stack.
#include "emu.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "emu_state.h"

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace emu {

thread_local Ctx t_ctx;

namespace {

constexpr size_t kStack = size_t(128) << 10;  // per fiber; a guard page below each
enum State { kReady, kAtBlock, kAtWarp, kDone };

struct Stack {
  char* base = nullptr;  // mapping start (guard page first)
};

}  // namespace

struct Fiber {
  uint3 tid;
  int linear = 0;
  State state = kReady;
  bool started = false;
#if defined(__x86_64__)
  void* sp = nullptr;
#else
  ucontext_t uc;
#endif
  int stack = -1;
};

namespace {

struct Sched {
  ~Sched() {  // a host thread that ends (a Worker) gives its fiber stacks back
    for (Stack& st : stacks) munmap(st.base, kStack + 4096);
  }
  std::vector<Fiber> fibers;
  std::vector<Stack> stacks;
  std::vector<int> free_stacks;
  std::vector<uint64_t> slots;  // warp exchange: one per thread
#if defined(__x86_64__)
  void* main_sp = nullptr;
#else
  ucontext_t main_uc;
#endif
  void (*body)(void*) = nullptr;
  void* arg = nullptr;
  const char* error = nullptr;
};
thread_local Sched t_s;

int take_stack() {
  Sched& s = t_s;
  if (!s.free_stacks.empty()) {
    int i = s.free_stacks.back();
    s.free_stacks.pop_back();
    return i;
  }
  void* p = mmap(nullptr, kStack + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    std::fprintf(stderr, "ignis CUDA emulator: cannot map a fiber stack\n");
    std::abort();
  }
  mprotect(p, 4096, PROT_NONE);
  s.stacks.push_back({static_cast<char*>(p)});
  return int(s.stacks.size()) - 1;
}

}  // namespace

extern "C" void emu_fiber_main(Fiber* f);

#if defined(__x86_64__)
// emu_switch(&save_sp, load_sp): saves the callee-saved registers on the current stack, stores the
// stack pointer, loads the other one and returns into it. A new fiber's stack holds six zero
// registers (r12 = the fiber) and emu_start's address.
extern "C" void emu_switch(void** save, void* load);
extern "C" void emu_start();
__asm__(
    ".text\n"
    ".globl emu_switch\n"
    ".hidden emu_switch\n"
    ".type emu_switch,@function\n"
    "emu_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  subq $8, %rsp\n  stmxcsr (%rsp)\n  fnstcw 4(%rsp)\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  ldmxcsr (%rsp)\n  fldcw 4(%rsp)\n  addq $8, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size emu_switch, .-emu_switch\n"
    ".globl emu_start\n"
    ".hidden emu_start\n"
    ".type emu_start,@function\n"
    "emu_start:\n"
    "  movq %r12, %rdi\n"
    "  call emu_fiber_main@PLT\n"
    "  ud2\n"
    ".size emu_start, .-emu_start\n");

static void to_scheduler(Fiber* f) { emu_switch(&f->sp, t_s.main_sp); }
static void to_fiber(Fiber* f) {
  if (!f->started) {
    f->started = true;
    f->stack = take_stack();
    char* top = t_s.stacks[size_t(f->stack)].base + 4096 + kStack;
    // emu_switch pops the control words, six registers and emu_start's address: rsp is then the
    // 16-byte aligned top, as emu_start's call needs
    uint64_t* sp = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(top) & ~uintptr_t(15));
    *--sp = reinterpret_cast<uint64_t>(&emu_start);
    *--sp = 0;                                   // rbp
    *--sp = 0;                                   // rbx
    *--sp = reinterpret_cast<uint64_t>(f);       // r12
    *--sp = 0;                                   // r13
    *--sp = 0;                                   // r14
    *--sp = 0;                                   // r15
    uint32_t cw[2] = {0, 0};
    __asm__ volatile("stmxcsr %0" : "=m"(cw[0]));
    __asm__ volatile("fnstcw %0" : "=m"(cw[1]));
    *--sp = uint64_t(cw[0]) | (uint64_t(cw[1]) << 32);
    f->sp = sp;
  }
  emu_switch(&t_s.main_sp, f->sp);
}
#else
static void to_scheduler(Fiber* f) { swapcontext(&f->uc, &t_s.main_uc); }
static void trampoline(unsigned hi, unsigned lo) {
  emu_fiber_main(reinterpret_cast<Fiber*>((uintptr_t(hi) << 32) | uintptr_t(lo)));
}
static void to_fiber(Fiber* f) {
  if (!f->started) {
    f->started = true;
    f->stack = take_stack();
    getcontext(&f->uc);
    f->uc.uc_stack.ss_sp = t_s.stacks[size_t(f->stack)].base + 4096;
    f->uc.uc_stack.ss_size = kStack;
    f->uc.uc_link = nullptr;
    const uintptr_t p = reinterpret_cast<uintptr_t>(f);
    makecontext(&f->uc, reinterpret_cast<void (*)()>(trampoline), 2, unsigned(p >> 32), unsigned(p));
  }
  swapcontext(&t_s.main_uc, &f->uc);
}
#endif

extern "C" void emu_fiber_main(Fiber* f) {
  t_s.body(t_s.arg);
  f->state = kDone;
  to_scheduler(f);
  std::abort();  // a finished fiber is never resumed
}

const uint3& thread_idx() { return t_ctx.cur->tid; }

void sync_threads() {
  Fiber* f = t_ctx.cur;
  f->state = kAtBlock;
  to_scheduler(f);
}

uint64_t warp_exchange(uint64_t v, int xor_mask) {
  Fiber* f = t_ctx.cur;
  Sched& s = t_s;
  const int lane = f->linear & 31, base = f->linear - lane;
  s.slots[size_t(f->linear)] = v;
  f->state = kAtWarp;
  to_scheduler(f);  // every lane of the warp has written its value
  const int src = base + ((lane ^ xor_mask) & 31);
  const uint64_t r = src < int(s.fibers.size()) ? s.slots[size_t(src)] : v;
  f->state = kAtWarp;
  to_scheduler(f);  // every lane has read before the slots are written again
  return r;
}

namespace {
// IGNIS_CUDA_EMU_SCHEDULE: the order blocks run in and threads get their turns: forward (default),
// reverse, or shuffle (a fixed-seed random order per launch). A kernel whose result depends on it
// has a race the device would show some day.
int schedule() {
  static const int mode = [] {
    const char* v = std::getenv("IGNIS_CUDA_EMU_SCHEDULE");
    const std::string m = v ? v : "";
    return m == "reverse" ? 1 : m == "shuffle" ? 2 : 0;
  }();
  return mode;
}
thread_local uint64_t t_rng = 0x9E3779B97F4A7C15ull;
uint64_t next_rand() {
  t_rng ^= t_rng << 13;
  t_rng ^= t_rng >> 7;
  t_rng ^= t_rng << 17;
  return t_rng;
}
// 0..n-1 in the schedule's order
void order(std::vector<uint32_t>& v, size_t n) {
  v.resize(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint32_t(i);
  if (schedule() == 1) std::reverse(v.begin(), v.end());
  else if (schedule() == 2)
    for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[size_t(next_rand() % i)]);
}
}  // namespace

bool skip_kernels() {
  static const bool on = [] {
    const char* v = std::getenv("IGNIS_CUDA_EMU_SKIP_KERNELS");
    return v && *v && std::string(v) != "0";
  }();
  return on;
}

bool run(const Cfg& cfg, void (*body)(void*), void* arg) {
  const uint64_t nthreads = uint64_t(cfg.block.x) * cfg.block.y * cfg.block.z;
  // the device's limits: a launch past them fails with cudaErrorInvalidConfiguration
  if (nthreads == 0 || nthreads > 1024 || cfg.block.z > 64 || cfg.grid.x == 0 || cfg.grid.y == 0 || cfg.grid.z == 0 ||
      cfg.grid.x > 2147483647u || cfg.grid.y > 65535 || cfg.grid.z > 65535) {
    set_launch_error(cudaErrorInvalidConfiguration);
    return false;
  }
  if (cfg.smem > 227 * 1024) {
    set_launch_error(cudaErrorInvalidValue);
    return false;
  }
  if (skip_kernels()) return true;
  Sched& s = t_s;
  if (s.body) {
    std::fprintf(stderr, "ignis CUDA emulator: a kernel launched a kernel\n");
    std::abort();
  }
  const Ctx saved = t_ctx;
  s.body = body;
  s.arg = arg;
  s.fibers.assign(size_t(nthreads), Fiber{});
  s.slots.assign(size_t(nthreads), 0);
  t_ctx.grid = cfg.grid;
  t_ctx.block = cfg.block;
  bool ok = true;
  const uint64_t nblocks = uint64_t(cfg.grid.x) * cfg.grid.y * cfg.grid.z;
  std::vector<uint32_t> blocks, turns;
  if (schedule() != 0) order(blocks, size_t(nblocks));
  for (uint64_t bi = 0; ok && bi < nblocks; ++bi) {
    const uint64_t b = schedule() != 0 ? blocks[size_t(bi)] : bi;
    t_ctx.bid = uint3{unsigned(b % cfg.grid.x), unsigned(b / cfg.grid.x % cfg.grid.y),
                      unsigned(b / (uint64_t(cfg.grid.x) * cfg.grid.y))};
    int i = 0;
    for (unsigned z = 0; z < cfg.block.z; ++z)
      for (unsigned y = 0; y < cfg.block.y; ++y)
        for (unsigned x = 0; x < cfg.block.x; ++x, ++i) {
          Fiber& f = s.fibers[size_t(i)];
          f = Fiber{};
          f.tid = uint3{x, y, z};
          f.linear = i;
        }
    for (;;) {
      if (schedule() != 0) order(turns, s.fibers.size());
      for (size_t k = 0; k < s.fibers.size(); ++k) {
        Fiber& f = s.fibers[schedule() != 0 ? turns[k] : k];
        if (f.state != kReady) continue;
        t_ctx.cur = &f;
        to_fiber(&f);
        if (f.state == kDone && f.stack >= 0) {
          s.free_stacks.push_back(f.stack);
          f.stack = -1;
        }
      }
      // everyone finished, or waits at a barrier: release the barriers every live thread reached
      int live = 0, at_block = 0;
      for (const Fiber& f : s.fibers) {
        if (f.state != kDone) live++;
        if (f.state == kAtBlock) at_block++;
      }
      if (live == 0) break;
      bool released = false;
      for (size_t w = 0; w < s.fibers.size(); w += 32) {
        const size_t e = std::min(s.fibers.size(), w + 32);
        int waiting = 0, done = 0, lanes = int(e - w);
        for (size_t j = w; j < e; ++j) {
          waiting += s.fibers[j].state == kAtWarp;
          done += s.fibers[j].state == kDone;
        }
        if (waiting == 0) continue;
        if (waiting + done == lanes && done == 0 && lanes == 32) {
          for (size_t j = w; j < e; ++j) s.fibers[j].state = kReady;
          released = true;
        } else if (waiting + done == lanes) {
          // a lint, stricter than the device: a full-mask shuffle in a warp with absent (partial
          // warp) or exited lanes is undefined there, the values from those lanes garbage
          s.error = "a full-mask warp shuffle in a warp with absent or exited lanes (undefined on the device)";
        }
      }
      if (!released && !s.error && at_block == live) {
        for (Fiber& f : s.fibers)
          if (f.state == kAtBlock) f.state = kReady;
        released = true;
      }
      if (!released) {
        if (!s.error) s.error = "__syncthreads or a warp shuffle that not every live thread reached (a hang on the device)";
        ok = false;
        break;
      }
    }
  }
  if (!ok) {
    // the blocked fibers are abandoned: their stacks go back to the pool
    for (Fiber& f : s.fibers)
      if (f.stack >= 0) s.free_stacks.push_back(f.stack);
    std::fprintf(stderr, "ignis CUDA emulator: kernel error: %s\n", s.error);
    set_launch_error(cudaErrorLaunchFailure);
    s.error = nullptr;
  }
  s.body = nullptr;
  s.arg = nullptr;
  t_ctx = saved;
  return ok;
}

}  // namespace emu
