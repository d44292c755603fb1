// Where downloads come from and go to, read from the environment the way huggingface_hub reads it
// (constants.py, utils/_auth.py): HF_ENDPOINT (mirrors; default https://huggingface.co), HF_TOKEN /
// HUGGING_FACE_HUB_TOKEN, else the token file (HF_TOKEN_PATH, else $HF_HOME/token, which
// `huggingface-cli login` writes), and the hub cache (llava::hubCacheDir). Proxies are not configured
// here: the downloader's network manager asks the system (http_proxy / https_proxy / no_proxy).
#pragma once

#include <QString>
#include <QUrl>

#include "llava/modellibrary.h"

namespace hub {

struct HubConfig {
    QUrl endpoint;          // no trailing slash
    QString token;          // empty: anonymous
    QString tokenSource;    // "HF_TOKEN", "/root/.cache/huggingface/token", "" (for messages, never the token)
    QString cacheDir;       // the hub cache root (…/huggingface/hub)
};

HubConfig hubConfigFromEnvironment(const llava::EnvLookup& env);

// The repositories this app is built for (issue 11): llava-hf/*-hf and liuhaotian/* of LLaVA v1.6.
QStringList supportedRepositories();

}  // namespace hub
