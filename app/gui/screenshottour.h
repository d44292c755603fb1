// A scripted walk through the app's main states for scripts/screenshots: when the environment variable
// LLAVA_INSIGHT_SCREENSHOTS names a folder, the running app (real engine, real demo model) saves
//   01-first-start.png   demo model loaded, sample image attached, inspector with exact text counts
//   02-streamed-answer.png  the (meaningless) streamed answer with its stats
//   03-inspector-wide.png   a 1408x792 image whose ORIG and HF layouts differ, side by side
//   04-preset-34b.png       the inspector on a built-in preset (no weights, ≈ text counts)
//   05-settings.png      the settings dialog
// and quits (exit code 0, or 1 when a state was not reached in time).
#pragma once

#include <QString>

class MainWindow;

// Returns false when the variable is not set (nothing scheduled).
bool startScreenshotTourFromEnvironment(MainWindow& window);
