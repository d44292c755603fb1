// Start-up helpers kept out of main() so tests and scripts/screenshots can use them: the light/dark theme,
// the engine factory, the settings as the parts they configure, and the first model to open.
#pragma once

#include <QApplication>

#include "inference/chatengine.h"
#include "settings/appsettings.h"

class MainWindow;
struct SamplingChoice;

// False under LLAVA_NO_DIALOGS (tests, scripts): no modal question or message box is shown.
bool dialogsAllowed();
void applyTheme(const QString& theme);  // "light" | "dark" | "system"
// A SwitchingChatEngine over LlavaChatEngine: local models, or an OpenAI-compatible server per LoadRequest.
ChatEngineFactory defaultEngineFactory();
// Settings -> Backend -> "OpenAI-compatible server" as the endpoint RemoteChatEngine connects to.
RemoteEndpoint remoteEndpointOf(const AppSettings& settings);
// Settings -> Generation as the sampling every answer uses (with the top-5 alternatives the hover cards show).
SamplingChoice samplingChoiceOf(const AppSettings& settings);
// Opens `modelDir`; else connects to the server when Settings say so; else the last model, else the
// built-in demo (random weights, clearly labelled).
void startInitialModel(MainWindow& window, const AppSettings& settings, const QString& modelDir);
