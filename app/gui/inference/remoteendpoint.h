// Where an OpenAI-compatible server is (Settings -> Backend -> "OpenAI-compatible server") and what it
// reported about one answer. Plain values: they cross from the GUI thread to the inference thread inside
// LoadRequest and come back inside the worker's signals.
#pragma once

#include <QMetaType>
#include <QString>

struct RemoteEndpoint {
    QString url;         // "http://127.0.0.1:8080" or ".../v1"
    QString apiKey;      // sent as "Authorization: Bearer KEY" when not empty
    QString modelName;   // empty: the first model the server lists
    QString configPath;  // the model's config.json for the inspector; empty: match a built-in preset
    QString tokenizerPath;  // tokenizer.model for local prompt counts; empty: the one beside configPath, if any
    int timeoutMs = 600000;
};

// The `usage` object of a remote answer next to what the app counts locally for the same prompt, so the
// status bar can say "server: 2357 prompt tokens · local: 2350" and a mismatch is visible.
struct ServerUsage {
    int promptTokens = 0;       // the server's usage.prompt_tokens (0: it did not say)
    int completionTokens = 0;   // usage.completion_tokens
    int localImageTokens = 0;   // anyres layout from the model's config, every image of the prompt
    int localPromptTokens = -1; // text + template + image tokens by a local tokenizer; -1: no tokenizer loaded
};

Q_DECLARE_METATYPE(ServerUsage)
