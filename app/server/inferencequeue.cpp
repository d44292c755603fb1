// See inferencequeue.h.
#include "inferencequeue.h"

#include <algorithm>
#include <cmath>

namespace server {

InferenceQueue::InferenceQueue(int capacity) : m_capacity(std::max(0, capacity)) {}

llava::Result<std::unique_ptr<InferenceQueue>> InferenceQueue::start(EngineFactory factory, int capacity) {
    std::unique_ptr<InferenceQueue> queue(new InferenceQueue(capacity));
    queue->m_thread = std::thread([q = queue.get(), f = std::move(factory)]() mutable { q->run(std::move(f)); });
    std::unique_lock lock(queue->m_mutex);
    queue->m_loadDone.wait(lock, [&] { return queue->m_loaded; });
    if (!queue->m_loadStatus.isOk()) {
        const llava::Status status = queue->m_loadStatus;
        lock.unlock();
        return status;  // the destructor joins the thread, which has already returned
    }
    return queue;
}

InferenceQueue::~InferenceQueue() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_jobs.clear();
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void InferenceQueue::readFacts(llava::Engine& engine) {
    m_config = engine.config();
    m_reference = engine.reference();
    m_backend = engine.backendReport();
    m_contextLimit = engine.session().contextLimit();
}

void InferenceQueue::finishLoad(llava::Status status) {
    {
        std::lock_guard lock(m_mutex);
        m_loadStatus = std::move(status);
        m_loaded = true;
    }
    m_loadDone.notify_all();
}

void InferenceQueue::run(EngineFactory factory) {
    auto engine = factory();
    if (engine.isOk()) {
        std::lock_guard lock(m_mutex);
        readFacts(**engine);
    }
    finishLoad(engine.isOk() ? llava::Status::ok() : engine.status());
    if (!engine.isOk()) return;
    llava::Engine& e = **engine;
    serveJobs([&e](const Job& job) {
        job(e);
        return true;
    });
}

std::unique_ptr<InferenceQueue> InferenceQueue::attach(Executor executor, EngineFacts facts, int capacity) {
    std::unique_ptr<InferenceQueue> queue(new InferenceQueue(capacity));
    queue->m_config = std::move(facts.config);
    queue->m_reference = facts.reference;
    queue->m_backend = std::move(facts.backend);
    queue->m_contextLimit = facts.contextLimit;
    queue->m_loaded = true;
    queue->m_thread = std::thread([q = queue.get(), x = std::move(executor)] { q->serveJobs(x); });
    return queue;
}

void InferenceQueue::serveJobs(const Executor& runJob) {
    while (true) {
        Queued next;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_stopping || !m_jobs.empty(); });
            if (m_stopping) return;
            next = std::move(m_jobs.front());
            m_jobs.pop_front();
            m_running = true;
        }
        const auto t0 = std::chrono::steady_clock::now();
        // Jobs report their own errors; nothing escapes (they catch at their boundary).
        if (!runJob(next.job) && next.dropped) next.dropped();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::lock_guard lock(m_mutex);
        m_running = false;
        m_averageJobSeconds = m_averageJobSeconds == 0 ? seconds : 0.8 * m_averageJobSeconds + 0.2 * seconds;
    }
}

bool InferenceQueue::trySubmit(Job job, std::function<void()> dropped) {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping || static_cast<int>(m_jobs.size()) >= m_capacity) return false;
        m_jobs.push_back({std::move(job), std::move(dropped)});
    }
    m_wake.notify_one();
    return true;
}

InferenceQueue::Snapshot InferenceQueue::snapshot() const {
    std::lock_guard lock(m_mutex);
    return {static_cast<int>(m_jobs.size()), m_running, m_capacity, m_averageJobSeconds};
}

int InferenceQueue::retryAfterSeconds() const {
    const Snapshot s = snapshot();
    const double expected = s.averageJobSeconds * (s.running ? 1 : 0);  // a slot frees when the running job ends
    return static_cast<int>(std::clamp(std::ceil(expected), 1.0, 60.0));
}

}  // namespace server
