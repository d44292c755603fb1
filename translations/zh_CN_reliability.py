# Translator's worksheet for the strings of docs/reliability.md (single instance, stale saves, full disk,
# backend self-check report, memory plan before a load); merged into zh_CN.ZH by fill_ts.py.
ZH_RELIABILITY = {
    # ConversationStore
    ': changed on disk and could not be kept aside; not overwritten': '：已在磁盘上被更改，且无法另存；未覆盖',
    '"%1" was changed on disk by another program or app window. Both versions are kept: the one on disk as "%2", this window\'s as "%1".':
        '“%1”已被其他程序或应用窗口在磁盘上更改。两个版本都已保留：磁盘上的版本为“%2”，本窗口的版本为“%1”。',
    'Unreadable version of a chat (%1)': '无法读取的对话版本（%1）',
    '%1 (changed on disk)': '%1（磁盘上已更改）',
    # SingleInstance, main
    'nobody can tell: %1 cannot be created (no permission, or the disk is full)': '无法确定：无法创建 %1（没有权限，或磁盘已满）',
    'an unknown process': '一个未知进程',
    'process %1 (%2) on %3': '%3 上的进程 %1（%2）',
    'Llava Insight is already running with the data folder %1 (%2), but it did not respond.':
        'Llava Insight 已在使用数据文件夹 %1 运行（%2），但没有响应。',
    'Close the other window (or end that process) and start again, or start with --data-dir to use another folder. Two windows on the same chats would overwrite each other\'s work.':
        '请关闭另一个窗口（或结束该进程）后重新启动，或使用 --data-dir 指定另一个文件夹启动。两个窗口同时使用相同的对话会互相覆盖对方的内容。',
    'Llava Insight is already running': 'Llava Insight 已在运行',
    # MainWindow, MainActions
    'This chat is not saved: %1\nThe previous version on disk is intact. Free some space: the chat is saved again automatically (every %2 seconds, with the next change, and when you quit).':
        '此对话未保存：%1\n磁盘上的上一个版本完好无损。请释放一些空间：对话会自动再次保存（每 %2 秒、下次更改时以及退出时）。',
    'Self-check report': '自检报告',
    '&Backend self-check…': '后端自检(&B)…',
    # StatusPanel
    ' · %1 template · %2 reference': ' · %1 模板 · %2 参考实现',
    # BackendReportDialog
    'Backend self-check': '后端自检',
    'Copy report': '复制报告',
    'No model is loaded. The CUDA self-check runs when a model is loaded with the Auto or CUDA backend (Settings → Backend) in a build with CUDA; this window then shows its report.':
        '未加载模型。在包含 CUDA 的版本中，以“自动”或 CUDA 后端（设置 → 后端）加载模型时会运行 CUDA 自检；之后此窗口会显示其报告。',
    'Model: %1': '模型：%1',
    'Backend: %1 (%2), weights %3': '后端：%1（%2），权重 %3',
    'Auto did not use CUDA: %1': '“自动”未使用 CUDA：%1',
    'Changed from what was asked: %1': '与请求不同之处：%1',
    'The CUDA self-check passed: every op matched the CPU reference.': 'CUDA 自检通过：每个算子都与 CPU 参考实现一致。',
    'The CUDA self-check failed: answers come from the CPU. Please attach the report below to a bug report.':
        'CUDA 自检失败：回答由 CPU 生成。请将下面的报告附在错误报告中。',
    'This build has no CUDA backend: the CPU backend (the reference the self-check compares against) is used.':
        '此版本没有 CUDA 后端：使用 CPU 后端（自检所对照的参考实现）。',
    'No self-check ran for this load (the CPU backend was chosen, or the check was skipped).':
        '本次加载未运行自检（选择了 CPU 后端，或跳过了自检）。',
    'The CPU is used instead of CUDA: %1': '使用 CPU 而不是 CUDA：%1',
    'Backend note: %1': '后端提示：%1',
    # LoadPlanDialog
    'Load %1?': '加载 %1？',
    'Precision': '精度',
    'Weights': '权重',
    'KV cache': 'KV 缓存',
    'Scratch': '临时缓冲',
    'Total': '合计',
    'Fits': '可容纳',
    ' (chosen in Settings)': '（设置中所选）',
    ' (recommended)': '（推荐）',
    'yes': '是',
    'no': '否',
    'Load with %1': '以 %1 加载',
    '%1 is not a complete LLaVA v1.6 model folder, so it cannot be loaded:\n%2': '%1 不是完整的 LLaVA v1.6 模型文件夹，因此无法加载：\n%2',
    'GPU memory': '显存',
    'RAM': '内存',
    '%1 needs %2 (weights %3, KV cache %4 for %5 tokens, scratch %6)': '%1 需要 %2（权重 %3，%5 个词元的 KV 缓存 %4，临时缓冲 %6）',
    '%1; %2 of %3 is free.': '%1；%3 可用 %2。',
    '%1, but only %2 of %3 is free, and no precision fits. Use a shorter context (Settings → Context) or a smaller model.':
        '%1，但%3仅剩 %2 可用，没有任何精度能够容纳。请使用更短的上下文（设置 → 上下文）或更小的模型。',
    '%1, but only %2 of %3 is free. %4 fits (%5): load with %4 instead? Answers at lower precision can differ slightly (docs/numerics.md).':
        '%1，但%3仅剩 %2 可用。%4 可以容纳（%5）：改为以 %4 加载？较低精度下的回答可能略有不同（docs/numerics.md）。',
}
