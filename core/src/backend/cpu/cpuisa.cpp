// Which CPU kernels run (CpuIsa): AVX2+FMA+F16C when the processor has all three, else the portable ones;
// LLAVA_CPU_ISA=portable forces the portable path (tests, A/B timing).
#include <cstdlib>
#include <string_view>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/cpusimd.h"

#ifdef LLAVA_CPU_X86  // defined by cpusimd.h
#include <cpuid.h>
#endif

namespace llava::cpu {

CpuIsa detectCpuIsa() {
    const char* forced = std::getenv("LLAVA_CPU_ISA");
    if (forced && std::string_view(forced) == "portable") return CpuIsa::Portable;
#ifdef LLAVA_CPU_X86
    __builtin_cpu_init();
    // F16C from CPUID leaf 1 (ECX bit 29) directly: clang before 16 rejects __builtin_cpu_supports("f16c")
    // at compile time, which broke the fuzz preset on Debian 12's clang 14. AVX2/FMA via the builtin also
    // check that the OS saves the YMM state, which F16C needs as well.
    unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c) return CpuIsa::Avx2;
#endif
    return CpuIsa::Portable;
}

const char* cpuIsaName(CpuIsa isa) { return isa == CpuIsa::Avx2 ? "AVX2+FMA+F16C" : "portable"; }

}  // namespace llava::cpu
