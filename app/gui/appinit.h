// Start-up helpers kept out of main() so tests and scripts/screenshots can use them: the light/dark theme, the engine factory and the first model to open.
#pragma once

#include <QApplication>

#include "inference/chatengine.h"
#include "settings/appsettings.h"

class MainWindow;

void applyTheme(const QString& theme);  // "light" | "dark" | "system"
// A SwitchingChatEngine over LlavaChatEngine: local models, or an OpenAI-compatible server per LoadRequest.
ChatEngineFactory defaultEngineFactory();
// Settings -> Backend -> "OpenAI-compatible server" as the endpoint RemoteChatEngine connects to.
RemoteEndpoint remoteEndpointOf(const AppSettings& settings);
// Opens `modelDir`; else connects to the server when Settings say so; else the last model, else the
// built-in demo (random weights, clearly labelled).
void startInitialModel(MainWindow& window, const AppSettings& settings, const QString& dataDir, const QString& modelDir);
