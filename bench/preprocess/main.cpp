// bench-preprocess: times llava::preprocessImage (all 5 crops of a 4032x3024 photo, normalised) and,
// in the same run, Pillow + numpy doing the same work (bench/preprocess/pillow_bench.py under Debian's
// /usr/bin/python3), then prints a table with both medians and the ratio. The Python side writes its
// crops back so the table also says whether both did byte-identical work.
// Usage: bench-preprocess [runs=15] [width=4032] [height=3024]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "llava/anyres.h"
#include "llava/preprocess.h"

namespace {

// A photo-like synthetic image: smooth gradients, a hard-edged block and pseudo-random texture.
llava::RgbImage makeImage(int w, int h) {
    llava::RgbImage img = llava::RgbImage::black(w, h);
    std::uint32_t state = 12345u;
    for (int y = 0; y < h; ++y) {
        std::uint8_t* row = img.row(y);
        for (int x = 0; x < w; ++x) {
            state = state * 1664525u + 1013904223u;  // LCG texture
            const int noise = static_cast<int>(state >> 27);  // 0..31
            const bool block = x > w / 3 && x < w / 2 && y > h / 4 && y < h / 2;
            row[3 * x + 0] = static_cast<std::uint8_t>(block ? 250 : (x * 200 / w + noise));
            row[3 * x + 1] = static_cast<std::uint8_t>(block ? 20 : (y * 200 / h + noise));
            row[3 * x + 2] = static_cast<std::uint8_t>(((x + y) * 120 / (w + h)) + noise * 2);
        }
    }
    return img;
}

double medianMs(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double timeOurs(const llava::RgbImage& img, const llava::AnyresParams& params, int threads, int runs,
                llava::PreprocessedImage* last) {
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = llava::preprocessImage(img, params, llava::VisionConfig{}, {threads});
        const auto t1 = std::chrono::steady_clock::now();
        if (!r.isOk()) {
            std::fprintf(stderr, "preprocess failed: %s\n", r.status().toString().c_str());
            std::exit(1);
        }
        times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        if (i + 1 == runs) *last = std::move(r).value();
    }
    return medianMs(times);
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
    const int w = argc > 2 ? std::atoi(argv[2]) : 4032;
    const int h = argc > 3 ? std::atoi(argv[3]) : 3024;
    llava::AnyresParams params;  // ORIG order of the v1.6 pinpoints, (width, height)
    params.candidates = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
    const llava::RgbImage img = makeImage(w, h);

    llava::PreprocessedImage ours;
    const double oursMt = timeOurs(img, params, 0, runs, &ours);
    const double oursSt = timeOurs(img, params, 1, runs, &ours);

    const std::string src = "/tmp/bench-preprocess-" + std::to_string(::getpid()) + ".rgb";
    const std::string cropsPath = src + ".crops";
    std::ofstream(src, std::ios::binary).write(reinterpret_cast<const char*>(img.pixels.data()),
                                               static_cast<std::streamsize>(img.pixels.size()));
    const std::string cmd = "/usr/bin/python3 " LLAVA_SOURCE_DIR "/bench/preprocess/pillow_bench.py " + src + " " +
                            std::to_string(w) + " " + std::to_string(h) + " " + std::to_string(runs) + " " + cropsPath;
    double pillow = -1.0;
    if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, pipe)) std::sscanf(line, "median_ms %lf", &pillow);
        ::pclose(pipe);
    }
    std::ifstream cropsFile(cropsPath, std::ios::binary);
    const std::vector<char> theirs((std::istreambuf_iterator<char>(cropsFile)), std::istreambuf_iterator<char>());
    std::vector<char> mine;
    for (const auto& c : ours.crops) mine.insert(mine.end(), c.pixels.begin(), c.pixels.end());
    std::remove(src.c_str());
    std::remove(cropsPath.c_str());
    if (pillow < 0) {
        std::fprintf(stderr, "Pillow side failed (needs /usr/bin/python3 with python3-pil, python3-numpy)\n");
        return 1;
    }

    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    std::printf("anyres preprocessing of a %dx%d image: %d crops (base + %dx%d grid), normalised; median of %d\n",
                w, h, ours.layout.cropCount(), ours.layout.gridCols, ours.layout.gridRows, runs);
    std::printf("%-34s %12s %12s\n", "implementation", "median ms", "vs Pillow");
    std::printf("%-34s %12.2f %11.2fx\n", "Pillow 9 + numpy (same run)", pillow, 1.0);
    std::printf("%-34s %12.2f %11.2fx\n", "llava, 1 thread", oursSt, pillow / oursSt);
    char label[64];
    std::snprintf(label, sizeof label, "llava, %u threads", hw);
    std::printf("%-34s %12.2f %11.2fx\n", label, oursMt, pillow / oursMt);
    std::printf("crops byte-identical to Pillow: %s\n", mine == theirs ? "yes" : "NO");
    return mine == theirs ? 0 : 2;
}
