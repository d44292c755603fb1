// LLAVA_CPU_CLONES: compile a hot portable function twice on x86-64 (Haswell: AVX2+FMA, and the default
// target) and pick one at load time (GCC/Clang target_clones), so the portable path still vectorises on
// machines that have AVX2. Empty elsewhere.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define LLAVA_CPU_CLONES __attribute__((target_clones("arch=haswell", "default")))
#else
#define LLAVA_CPU_CLONES
#endif
