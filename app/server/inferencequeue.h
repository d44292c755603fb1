// The one inference thread of the server: it loads the llava::Engine, then runs submitted jobs one at a
// time (an Engine and its session belong to exactly one thread, see llava/engine.h). The queue of waiting
// jobs is bounded: trySubmit() refuses when it is full, so the server answers 429 instead of piling up
// work. Qt-free. Jobs are cancelled by their own flags (the CancelPredicate they pass to the engine);
// the destructor stops taking jobs, lets the running one finish (its owner has cancelled it) and joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "llava/engine.h"
#include "llava/status.h"

namespace server {

class InferenceQueue {
public:
    using Job = std::function<void(llava::Engine&)>;
    using EngineFactory = std::function<llava::Result<std::unique_ptr<llava::Engine>>()>;
    // Runs a job on an engine that lives elsewhere (the GUI's inference thread) and returns once it ran;
    // false when that engine is gone (no model loaded), the job did not run.
    using Executor = std::function<bool(const Job&)>;

    // Starts the thread and loads the engine on it; returns once loading finished (or failed).
    static llava::Result<std::unique_ptr<InferenceQueue>> start(EngineFactory factory, int capacity);
    // The engine's fixed facts, for attach(): the owner knows them from its own load.
    struct EngineFacts {
        llava::ModelConfig config;
        llava::Reference reference = llava::Reference::Original;
        llava::BackendReport backend;
        int contextLimit = 0;
    };
    // Serves an engine owned by someone else (the app's "Serve this model"): jobs still wait in this
    // bounded queue, and this thread hands them one at a time to `executor`, which runs them on the
    // engine's own thread. No second copy of the model. Returns at once (nothing is loaded).
    static std::unique_ptr<InferenceQueue> attach(Executor executor, EngineFacts facts, int capacity);
    ~InferenceQueue();
    InferenceQueue(const InferenceQueue&) = delete;
    InferenceQueue& operator=(const InferenceQueue&) = delete;

    // false: `capacity` jobs are already waiting (the running one not counted). `dropped` is called (on
    // the queue's thread) instead of the job when an attached executor's engine is gone by its turn.
    bool trySubmit(Job job, std::function<void()> dropped = {});

    struct Snapshot {
        int waiting = 0;
        bool running = false;
        int capacity = 0;
        double averageJobSeconds = 0;  // exponential moving average of finished jobs
    };
    Snapshot snapshot() const;
    // A Retry-After hint for a refused request: the expected time until a queue slot frees, >= 1 s.
    int retryAfterSeconds() const;

    // The engine's fixed facts, readable from any thread (copied at load).
    const llava::ModelConfig& config() const { return m_config; }
    llava::Reference reference() const { return m_reference; }
    const llava::BackendReport& backendReport() const { return m_backend; }
    int contextLimit() const { return m_contextLimit; }

private:
    explicit InferenceQueue(int capacity);
    void run(EngineFactory factory);
    void readFacts(llava::Engine& engine);  // under m_mutex
    void finishLoad(llava::Status status);
    void serveJobs(const Executor& runJob);

    const int m_capacity;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    struct Queued {
        Job job;
        std::function<void()> dropped;
    };
    std::deque<Queued> m_jobs;
    bool m_running = false;
    bool m_stopping = false;
    double m_averageJobSeconds = 0;

    // Load handshake and the engine's facts (written by the thread before `m_loaded` is signalled).
    std::condition_variable m_loadDone;
    bool m_loaded = false;
    llava::Status m_loadStatus;
    llava::ModelConfig m_config;
    llava::Reference m_reference = llava::Reference::Original;
    llava::BackendReport m_backend;
    int m_contextLimit = 0;

    std::thread m_thread;  // last member: started after everything it uses exists
};

}  // namespace server
