<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>BackendReportDialog</name>
    <message>
        <source>Backend self-check</source>
        <translation>后端自检</translation>
    </message>
    <message>
        <source>Copy report</source>
        <translation>复制报告</translation>
    </message>
    <message>
        <source>No model is loaded. The CUDA self-check runs when a model is loaded with the Auto or CUDA backend (Settings → Backend) in a build with CUDA; this window then shows its report.</source>
        <translation>未加载模型。在包含 CUDA 的版本中，以“自动”或 CUDA 后端（设置 → 后端）加载模型时会运行 CUDA 自检；之后此窗口会显示其报告。</translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation>模型：%1</translation>
    </message>
    <message>
        <source>Backend: %1 (%2), weights %3</source>
        <translation>后端：%1（%2），权重 %3</translation>
    </message>
    <message>
        <source>Auto did not use CUDA: %1</source>
        <translation>“自动”未使用 CUDA：%1</translation>
    </message>
    <message>
        <source>Changed from what was asked: %1</source>
        <translation>与请求不同之处：%1</translation>
    </message>
    <message>
        <source>The CUDA self-check passed: every op matched the CPU reference.</source>
        <translation>CUDA 自检通过：每个算子都与 CPU 参考实现一致。</translation>
    </message>
    <message>
        <source>The CUDA self-check failed: answers come from the CPU. Please attach the report below to a bug report.</source>
        <translation>CUDA 自检失败：回答由 CPU 生成。请将下面的报告附在错误报告中。</translation>
    </message>
    <message>
        <source>This build has no CUDA backend: the CPU backend (the reference the self-check compares against) is used.</source>
        <translation>此版本没有 CUDA 后端：使用 CPU 后端（自检所对照的参考实现）。</translation>
    </message>
    <message>
        <source>No self-check ran for this load (the CPU backend was chosen, or the check was skipped).</source>
        <translation>本次加载未运行自检（选择了 CPU 后端，或跳过了自检）。</translation>
    </message>
    <message>
        <source>The CPU is used instead of CUDA: %1</source>
        <translation>使用 CPU 而不是 CUDA：%1</translation>
    </message>
    <message>
        <source>Backend note: %1</source>
        <translation>后端提示：%1</translation>
    </message>
    <message>
        <source>Weight cache: %1</source>
        <translation>权重缓存：%1</translation>
    </message>
</context>
<context>
    <name>Chat</name>
    <message>
        <source>Image chat</source>
        <translation>图像对话</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
</context>
<context>
    <name>ChatModel</name>
    <message>
        <source>TTFT %1 ms</source>
        <translation>首词元 %1 毫秒</translation>
    </message>
    <message>
        <source>%1 tok/s</source>
        <translation>%1 词元/秒</translation>
    </message>
    <message>
        <source>%1 image + %2 text tokens in, %3 out</source>
        <translation>输入 %1 图像 + %2 文本词元，输出 %3</translation>
    </message>
    <message>
        <source>seed %1</source>
        <translation>种子 %1</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Show %1 earlier messages</source>
        <translation>显示更早的 %1 条消息</translation>
    </message>
    <message>
        <source>Shade &amp;unsure words</source>
        <translation>标出不确定的词(&amp;U)</translation>
    </message>
    <message>
        <source>Give answer words the model was less than 50 % sure of a background (hover a word for its probability)</source>
        <translation>为模型把握低于 50 % 的回答词加底色（悬停查看其概率）</translation>
    </message>
</context>
<context>
    <name>ChatsPanel</name>
    <message>
        <source>Search chats</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Chat list</source>
        <translation>对话列表</translation>
    </message>
    <message>
        <source>New</source>
        <translation>新建</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Rename chat</source>
        <translation>重命名对话</translation>
    </message>
    <message>
        <source>Delete chat</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <source>Title:</source>
        <translation>标题：</translation>
    </message>
    <message>
        <source>Delete "%1" and its images?</source>
        <translation>删除“%1”及其图像？</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Export chat</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <source>Exported to %1</source>
        <translation>已导出到 %1</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <source>Attach</source>
        <translation>附加</translation>
    </message>
    <message>
        <source>Attach images (Ctrl+O)</source>
        <translation>附加图像 (Ctrl+O)</translation>
    </message>
    <message>
        <source>Attach image</source>
        <translation>附加图像</translation>
    </message>
    <message>
        <source>Ask about the image… (Enter sends, Shift+Enter for a new line)</source>
        <translation>询问有关图像的问题…（Enter 发送，Shift+Enter 换行）</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Send message</source>
        <translation>发送消息</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop generating</source>
        <translation>停止生成</translation>
    </message>
    <message>
        <source>Remove attachment %1</source>
        <translation>移除附件 %1</translation>
    </message>
    <message>
        <source>Stop generating (Esc)</source>
        <translation>停止生成 (Esc)</translation>
    </message>
    <message>
        <source>Send message (Enter)</source>
        <translation>发送消息 (Enter)</translation>
    </message>
    <message>
        <source>Editing a message: Send replaces it and every message after it.</source>
        <translation>正在编辑消息：发送将替换它及其后的所有消息。</translation>
    </message>
    <message>
        <source>Cancel edit</source>
        <translation>取消编辑</translation>
    </message>
    <message>
        <source>Keep the chat as it is</source>
        <translation>保持对话不变</translation>
    </message>
    <message>
        <source>%1 is not a readable image: %2</source>
        <translation>%1 不是可读取的图像：%2</translation>
    </message>
    <message>
        <source>%1 — click to view</source>
        <translation>%1 — 点击查看</translation>
    </message>
    <message>
        <source>View attachment %1</source>
        <translation>查看附件 %1</translation>
    </message>
    <message>
        <source>Remove %1</source>
        <translation>移除 %1</translation>
    </message>
</context>
<context>
    <name>ConfidenceCard</name>
    <message>
        <source>model before sampling: %1</source>
        <translation>采样前模型概率：%1</translation>
    </message>
</context>
<context>
    <name>ConnectionTester</name>
    <message>
        <source>Connected: the server serves “%1” · context %2 tokens · inspector: %3</source>
        <translation>已连接：服务器提供“%1” · 上下文 %2 个词元 · 检查器：%3</translation>
    </message>
    <message>
        <source>preset %1</source>
        <translation>预设 %1</translation>
    </message>
    <message>
        <source> · local tokenizer: prompt counts compared</source>
        <translation> · 本地分词器：已对比提示词元数</translation>
    </message>
</context>
<context>
    <name>ContextMeter</name>
    <message>
        <source>Context used</source>
        <translation>已用上下文</translation>
    </message>
    <message>
        <source>Context: counting…</source>
        <translation>上下文：正在计数…</translation>
    </message>
    <message>
        <source>Context: cannot be counted: %1</source>
        <translation>上下文：无法计数：%1</translation>
    </message>
    <message>
        <source> · images %1</source>
        <translation> · 图像 %1</translation>
    </message>
    <message>
        <source>Context after Send: %1 of %2 tokens (%3%): chat so far %4, this message %5 (with 1 for the reply)%6</source>
        <translation>发送后上下文：%1 / %2 个词元（%3%）：此前对话 %4，本条消息 %5（含回复预留 1）%6</translation>
    </message>
    <message>
        <source>Too long by %1 tokens: this message needs %2 (%3) but %4 of the %5-token context are free.</source>
        <translation>超出 %1 个词元：本条消息需要 %2（%3），但 %5 词元的上下文只剩 %4。</translation>
    </message>
    <message>
        <source>images %1</source>
        <translation>图像 %1</translation>
    </message>
    <message>
        <source>text only</source>
        <translation>仅文本</translation>
    </message>
    <message>
        <source>remove an image</source>
        <translation>移除一张图像</translation>
    </message>
    <message>
        <source>start a new chat</source>
        <translation>开始新对话</translation>
    </message>
    <message>
        <source>reload the model with a context of %1 tokens</source>
        <translation>以 %1 词元的上下文重新加载模型</translation>
    </message>
    <message>
        <source>shorten the message (the model holds at most %1 tokens)</source>
        <translation>缩短消息（模型最多容纳 %1 个词元）</translation>
    </message>
    <message>
        <source>Ways out: %1.</source>
        <translation>解决办法：%1。</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Reload with %1</source>
        <translation>以 %1 重新加载</translation>
    </message>
</context>
<context>
    <name>ConversationStore</name>
    <message>
        <source>: changed on disk and could not be kept aside; not overwritten</source>
        <translation>：已在磁盘上被更改，且无法另存；未覆盖</translation>
    </message>
    <message>
        <source>"%1" was changed on disk by another program or app window. Both versions are kept: the one on disk as "%2", this window's as "%1".</source>
        <translation>“%1”已被其他程序或应用窗口在磁盘上更改。两个版本都已保留：磁盘上的版本为“%2”，本窗口的版本为“%1”。</translation>
    </message>
    <message>
        <source>Unreadable version of a chat (%1)</source>
        <translation>无法读取的对话版本（%1）</translation>
    </message>
    <message>
        <source>%1 (changed on disk)</source>
        <translation>%1（磁盘上已更改）</translation>
    </message>
</context>
<context>
    <name>ImageViewer</name>
    <message>
        <source>Image — %1</source>
        <translation>图像 — %1</translation>
    </message>
    <message>
        <source>&amp;Fit</source>
        <translation>适应窗口(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;100 %</source>
        <translation>&amp;100 %</translation>
    </message>
    <message>
        <source>&amp;Tiles and unpadding</source>
        <translation>图块与去填充(&amp;T)</translation>
    </message>
    <message>
        <source>Overlay the anyres canvas, its 336-px tiles (numbered in crop order) and the rows/columns unpadding removes</source>
        <translation>叠加显示 anyres 画布、336 像素图块（按裁剪顺序编号）以及去填充移除的行/列</translation>
    </message>
    <message>
        <source>Show in &amp;inspector</source>
        <translation>在检查器中显示(&amp;I)</translation>
    </message>
    <message>
        <source>Where the answer looked</source>
        <translation>回答关注了哪里</translation>
    </message>
    <message>
        <source>Answer tokens</source>
        <translation>回答词元</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>层</translation>
    </message>
    <message>
        <source>&amp;Show attention</source>
        <translation>显示注意力(&amp;S)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Opacity</source>
        <translation>不透明度</translation>
    </message>
    <message>
        <source>Zoom %1 %</source>
        <translation>缩放 %1 %</translation>
    </message>
    <message>
        <source>0 … %1 per cell</source>
        <translation>0 … %1（每格）</translation>
    </message>
    <message>
        <source>Attention needs a picture sent with a question that was answered by a local model.</source>
        <translation>注意力图需要一张随问题发送、并由本地模型回答过的图片。</translation>
    </message>
    <message>
        <source>Answering again with attention capture…</source>
        <translation>正在重新回答并记录注意力…</translation>
    </message>
    <message>
        <source>No attention map: %1</source>
        <translation>无注意力图：%1</translation>
    </message>
    <message>
        <source>Tokens %1–%2 of %3 (layers %4–%5, mean over heads): picture %6 (base %7, tiles %8, newlines %9), prompt text %10, earlier answer %11. Re-run answer: %12</source>
        <translation>词元 %1–%2 / %3（第 %4–%5 层，各头平均）：图片 %6（基础图 %7，图块 %8，换行 %9），提示文本 %10，先前回答 %11。重新生成的回答：%12</translation>
    </message>
    <message>
        <source>Click a word of the answer in the chat, or choose tokens here and press Show attention.</source>
        <translation>点击聊天中回答的某个词，或在此选择词元后按“显示注意力”。</translation>
    </message>
</context>
<context>
    <name>InferenceWorker</name>
    <message>
        <source>Choose a folder with config.json, *.safetensors and tokenizer.model (a llava-v1.6 checkpoint).</source>
        <translation>请选择包含 config.json、*.safetensors 和 tokenizer.model 的文件夹（llava-v1.6 检查点）。</translation>
    </message>
    <message>
        <source>Only LLaVA v1.6 checkpoints in Hugging Face safetensors layout are supported (not GGUF).</source>
        <translation>仅支持 Hugging Face safetensors 格式的 LLaVA v1.6 检查点（不支持 GGUF）。</translation>
    </message>
    <message>
        <source>Try the CPU backend, a lower precision (q8/q4) or a shorter context in Settings.</source>
        <translation>请在设置中尝试 CPU 后端、更低的精度（q8/q4）或更短的上下文。</translation>
    </message>
    <message>
        <source>Loading was cancelled.</source>
        <translation>加载已取消。</translation>
    </message>
    <message>
        <source>Check that the folder holds a complete, unmodified checkpoint.</source>
        <translation>请检查该文件夹是否包含完整且未经修改的检查点。</translation>
    </message>
    <message>
        <source>Loading the model failed unexpectedly.</source>
        <translation>加载模型时发生意外错误。</translation>
    </message>
    <message>
        <source>Generation failed.</source>
        <translation>生成失败。</translation>
    </message>
    <message>
        <source>Generation failed unexpectedly.</source>
        <translation>生成时发生意外错误。</translation>
    </message>
    <message>
        <source>The model's files changed on disk, so the model was unloaded. Open it again.</source>
        <translation>模型文件在磁盘上已被更改，因此已卸载该模型。请重新打开它。</translation>
    </message>
    <message>
        <source>counting the context failed unexpectedly</source>
        <translation>上下文计数意外失败</translation>
    </message>
</context>
<context>
    <name>InspectorController</name>
    <message>
        <source> · exact text tokens</source>
        <translation> · 精确文本词元</translation>
    </message>
    <message>
        <source> · text tokens estimated (≈): %1</source>
        <translation> · 文本词元为估计值（≈）：%1</translation>
    </message>
    <message>
        <source> · text tokens estimated (≈)</source>
        <translation> · 文本词元为估计值（≈）</translation>
    </message>
    <message>
        <source>model %1</source>
        <translation>模型 %1</translation>
    </message>
    <message>
        <source>preset %1</source>
        <translation>预设 %1</translation>
    </message>
    <message>
        <source>default geometry (no model loaded)</source>
        <translation>默认几何参数（未加载模型）</translation>
    </message>
    <message>
        <source>needs the loaded model's tokenizer</source>
        <translation>需要已加载模型的分词器</translation>
    </message>
</context>
<context>
    <name>InspectorWidget</name>
    <message>
        <source>ORIG (haotian-liu/LLaVA)</source>
        <translation>ORIG（haotian-liu/LLaVA）</translation>
    </message>
    <message>
        <source>HF (transformers)</source>
        <translation>HF（transformers）</translation>
    </message>
    <message>
        <source>Image inspector</source>
        <translation>图像检查器</translation>
    </message>
    <message>
        <source>How the current image becomes tokens: canvas, tiles, unpadding and prompt layout</source>
        <translation>当前图像如何变成词元：画布、图块、去填充和提示布局</translation>
    </message>
    <message>
        <source>Drop, paste or attach an image to see its anyres canvas, tiles and token layout.</source>
        <translation>拖放、粘贴或附加一张图像，即可查看其 anyres 画布、图块和词元布局。</translation>
    </message>
    <message>
        <source>No layout: %1</source>
        <translation>无布局：%1</translation>
    </message>
    <message>
        <source>%1×%2 → canvas %3×%4, grid %5×%6 (cols×rows)</source>
        <translation>%1×%2 → 画布 %3×%4，网格 %5×%6（列×行）</translation>
    </message>
    <message>
        <source>base</source>
        <translation>基础</translation>
    </message>
    <message>
        <source>Prompt layout: %1%2 + %3 + %4%5 = %6 tokens</source>
        <translation>提示布局：%1%2 + %3 + %4%5 = %6 个词元</translation>
    </message>
    <message>
        <source>Context: this first message uses %1 of %2 (%3%)</source>
        <translation>上下文：第一条消息使用 %1 / %2（%3%）</translation>
    </message>
    <message>
        <source>Context: %1 of %2 used by this chat (%3%)</source>
        <translation>上下文：此对话已使用 %1 / %2（%3%）</translation>
    </message>
    <message>
        <source>Base thumbnail: %1 tokens from position %2</source>
        <translation>基础缩略图：%1 个词元，自位置 %2 起</translation>
    </message>
    <message>
        <source>Tile %1: %2 tokens (one run per kept row)</source>
        <translation>图块 %1：%2 个词元（每个保留行一段）</translation>
    </message>
    <message>
        <source>Training labels: %1</source>
        <translation>训练标签：%1</translation>
    </message>
    <message>
        <source>Training labels (%1): learned %2 · masked −100 %3</source>
        <translation>训练标签（%1）：学习 %2 · 屏蔽 −100 %3</translation>
    </message>
    <message>
        <source> · tokenization mismatch: the original code masks everything</source>
        <translation> · 分词不匹配：原始代码屏蔽全部</translation>
    </message>
</context>
<context>
    <name>LabelLane</name>
    <message>
        <source>training keeps one image per message; this chat has a message with %1</source>
        <translation>训练时每条消息只保留一张图片；此聊天中有一条消息含 %1 张</translation>
    </message>
    <message>
        <source>no answered message yet</source>
        <translation>尚无已回答的消息</translation>
    </message>
</context>
<context>
    <name>LoadPlanDialog</name>
    <message>
        <source>Load %1?</source>
        <translation>加载 %1？</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <source>Scratch</source>
        <translation>临时缓冲</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>Fits</source>
        <translation>可容纳</translation>
    </message>
    <message>
        <source> (chosen in Settings)</source>
        <translation>（设置中所选）</translation>
    </message>
    <message>
        <source> (recommended)</source>
        <translation>（推荐）</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>Load with %1</source>
        <translation>以 %1 加载</translation>
    </message>
    <message>
        <source>%1 is not a complete LLaVA v1.6 model folder, so it cannot be loaded:
%2</source>
        <translation>%1 不是完整的 LLaVA v1.6 模型文件夹，因此无法加载：
%2</translation>
    </message>
    <message>
        <source>GPU memory</source>
        <translation>显存</translation>
    </message>
    <message>
        <source>RAM</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>%1 needs %2 (weights %3, KV cache %4 for %5 tokens, scratch %6)</source>
        <translation>%1 需要 %2（权重 %3，%5 个词元的 KV 缓存 %4，临时缓冲 %6）</translation>
    </message>
    <message>
        <source>%1; %2 of %3 is free.</source>
        <translation>%1；%3 可用 %2。</translation>
    </message>
    <message>
        <source>%1, but only %2 of %3 is free, and no precision fits. Use a shorter context (Settings → Context) or a smaller model.</source>
        <translation>%1，但%3仅剩 %2 可用，没有任何精度能够容纳。请使用更短的上下文（设置 → 上下文）或更小的模型。</translation>
    </message>
    <message>
        <source>%1, but only %2 of %3 is free. %4 fits (%5): load with %4 instead? Answers at lower precision can differ slightly (docs/numerics.md).</source>
        <translation>%1，但%3仅剩 %2 可用。%4 可以容纳（%5）：改为以 %4 加载？较低精度下的回答可能略有不同（docs/numerics.md）。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Chats</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>检查器</translation>
    </message>
    <message>
        <source>What is shown in this image?</source>
        <translation>这张图像中显示了什么？</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>新对话(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Open image…</source>
        <translation>打开图像(&amp;O)…</translation>
    </message>
    <message>
        <source>Export as &amp;Markdown…</source>
        <translation>导出为 Markdown(&amp;M)…</translation>
    </message>
    <message>
        <source>Export as &amp;JSON…</source>
        <translation>导出为 JSON(&amp;J)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Paste</source>
        <translation>粘贴(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Models</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>Open &amp;model folder…</source>
        <translation>打开模型文件夹(&amp;M)…</translation>
    </message>
    <message>
        <source>&amp;Recent models</source>
        <translation>最近的模型(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Demo model (random weights)</source>
        <translation>演示模型（随机权重）(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Inspect preset (no weights)</source>
        <translation>检查预设（无权重）(&amp;I)</translation>
    </message>
    <message>
        <source>Inspect the &amp;loaded model</source>
        <translation>检查已加载的模型(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Regenerate last answer</source>
        <translation>重新生成上一个回答(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Focus composer</source>
        <translation>聚焦输入框(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About</source>
        <translation>关于(&amp;A)</translation>
    </message>
    <message>
        <source>About Llava Insight</source>
        <translation>关于 Llava Insight</translation>
    </message>
    <message>
        <source>Llava Insight %1
Offline LLaVA v1.6 (LLaVA-NeXT) with an anyres inspector.</source>
        <translation>Llava Insight %1
带 anyres 检查器的离线 LLaVA v1.6（LLaVA-NeXT）。</translation>
    </message>
    <message>
        <source>Open images</source>
        <translation>打开图像</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.gif *.bmp *.webp *.tif *.tiff)</source>
        <translation>图像 (*.png *.jpg *.jpeg *.gif *.bmp *.webp *.tif *.tiff)</translation>
    </message>
    <message>
        <source>&amp;Export chat</source>
        <translation>导出对话(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>Open image</source>
        <translation>打开图像</translation>
    </message>
    <message>
        <source>Open model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>&amp;Undo delete chat</source>
        <translation>撤销删除对话(&amp;U)</translation>
    </message>
    <message>
        <source>Some chats could not be read and were moved aside (nothing was deleted):
%1</source>
        <translation>部分对话无法读取，已移到一旁（未删除任何内容）：
%1</translation>
    </message>
    <message>
        <source>Deleted "%1".</source>
        <translation>已删除“%1”。</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>The image was not sent: %1</source>
        <translation>图像未发送：%1</translation>
    </message>
    <message>
        <source>Model &amp;library and downloads…</source>
        <translation>模型库和下载(&amp;L)…</translation>
    </message>
    <message>
        <source>&amp;Backend self-check…</source>
        <translation>后端自检(&amp;B)…</translation>
    </message>
    <message>
        <source>This chat is not saved: %1
The previous version on disk is intact. Free some space: the chat is saved again automatically (every %2 seconds, with the next change, and when you quit).</source>
        <translation>此对话未保存：%1
磁盘上的上一个版本完好无损。请释放一些空间：对话会自动再次保存（每 %2 秒、下次更改时以及退出时）。</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy message</source>
        <translation>复制消息</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Edit and resend</source>
        <translation>编辑并重新发送</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Regenerate answer</source>
        <translation>重新生成回答</translation>
    </message>
    <message>
        <source>Message text</source>
        <translation>消息文本</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>(stopped)</source>
        <translation>（已停止）</translation>
    </message>
    <message>
        <source>Attached image %1 — click to view</source>
        <translation>附加图像 %1 — 点击查看</translation>
    </message>
    <message>
        <source>Timeline</source>
        <translation>时间线</translation>
    </message>
    <message>
        <source>Where the time of this answer went: each stage with its GB/s and GFLOP/s</source>
        <translation>此回答的时间花在哪里：各阶段及其 GB/s 和 GFLOP/s</translation>
    </message>
</context>
<context>
    <name>ModelController</name>
    <message>
        <source>Open a LLaVA v1.6 model folder</source>
        <translation>打开 LLaVA v1.6 模型文件夹</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>Load a local model first: only a model loaded on this computer can be served.</source>
        <translation>请先加载本地模型：只有在本机上加载的模型才能提供服务。</translation>
    </message>
    <message>
        <source>Could not serve on 127.0.0.1:%1: %2 (choose another port in Settings → Backend).</source>
        <translation>无法在 127.0.0.1:%1 上提供服务：%2（请在 设置 → 后端 中选择其他端口）。</translation>
    </message>
    <message>
        <source>Serving %1 at %2 for programs on this computer (OpenAI-compatible; see docs/serving.md). Requests share this window's model and wait for its answers.</source>
        <translation>正在 %2 为本机程序提供 %1（OpenAI 兼容；见 docs/serving.md）。请求与本窗口共用模型，并等待其回答完成。</translation>
    </message>
    <message>
        <source>Stop serving</source>
        <translation>停止服务</translation>
    </message>
    <message>
        <source>Stop &amp;serving (%1)</source>
        <translation>停止服务(&amp;S)（%1）</translation>
    </message>
    <message>
        <source>&amp;Serve this model on localhost:%1</source>
        <translation>在 localhost:%1 上服务此模型(&amp;S)</translation>
    </message>
    <message>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>%1 — answers are meaningless</source>
        <translation>%1 — 回答没有意义</translation>
    </message>
    <message>
        <source>%1 (random weights — answers are meaningless)</source>
        <translation>%1（随机权重 — 回答没有意义）</translation>
    </message>
    <message>
        <source>%1 — via server %2</source>
        <translation>%1 — 经由服务器 %2</translation>
    </message>
    <message>
        <source>Demo model with random weights — answers are meaningless. Open a LLaVA v1.6 folder (Models → Open model folder) for real answers.</source>
        <translation>演示模型使用随机权重 — 回答没有意义。请打开 LLaVA v1.6 模型文件夹（模型 → 打开模型文件夹）以获得真实回答。</translation>
    </message>
    <message>
        <source>Self-check report</source>
        <translation>自检报告</translation>
    </message>
    <message>
        <source>%1 is still loaded and answers as before.</source>
        <translation>%1 仍已加载，可照常回答。</translation>
    </message>
    <message>
        <source>No model is loaded now.</source>
        <translation>当前未加载模型。</translation>
    </message>
    <message>
        <source>Could not load the model</source>
        <translation>无法加载模型</translation>
    </message>
</context>
<context>
    <name>ModelLibraryDialog</name>
    <message>
        <source>Model library</source>
        <translation>模型库</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Layout</source>
        <translation>布局</translation>
    </message>
    <message>
        <source>Template</source>
        <translation>模板</translation>
    </message>
    <message>
        <source>Dtype</source>
        <translation>数据类型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Complete</source>
        <translation>完整</translation>
    </message>
    <message>
        <source>Fits</source>
        <translation>可容纳</translation>
    </message>
    <message>
        <source>Context (tokens):</source>
        <translation>上下文（词元）：</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <source>Scratch</source>
        <translation>临时缓冲</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Library</source>
        <translation>库</translation>
    </message>
    <message>
        <source>Repository:</source>
        <translation>仓库：</translation>
    </message>
    <message>
        <source>Revision:</source>
        <translation>版本：</translation>
    </message>
    <message>
        <source>Into:</source>
        <translation>保存到：</translation>
    </message>
    <message>
        <source>, with a token</source>
        <translation>，使用令牌</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Open downloaded model</source>
        <translation>打开已下载的模型</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no: %1</source>
        <translation>否：%1</translation>
    </message>
    <message>
        <source>nothing fits</source>
        <translation>均无法容纳</translation>
    </message>
    <message>
        <source>No model selected.</source>
        <translation>未选择模型。</translation>
    </message>
    <message>
        <source>No config.json: no plan.</source>
        <translation>没有 config.json：无法估算。</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>GPU memory</source>
        <translation>显存</translation>
    </message>
    <message>
        <source>RAM</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>%1 free %2; recommended: %3</source>
        <translation>可用%2 %1；推荐：%3</translation>
    </message>
    <message>
        <source>Nothing fits in %1 of free %2: use a shorter context or a smaller model.</source>
        <translation>可用%2 %1 不足以容纳任何精度：请缩短上下文或换用更小的模型。</translation>
    </message>
    <message>
        <source>File %1 of %2: %3 — %4</source>
        <translation>文件 %1/%2：%3 — %4</translation>
    </message>
    <message>
        <source>Total: %1</source>
        <translation>总计：%1</translation>
    </message>
    <message>
        <source>Cancelled. The partial file is kept; Download resumes it.</source>
        <translation>已取消。部分文件已保留，再次下载时将继续。</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>Done: %1</source>
        <translation>完成：%1</translation>
    </message>
</context>
<context>
    <name>NoticeBar</name>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Dismiss notice</source>
        <translation>关闭通知</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source> (moved to %1)</source>
        <translation>（已移动到 %1）</translation>
    </message>
    <message>
        <source> (could not move it aside)</source>
        <translation>（无法将其移到一旁）</translation>
    </message>
    <message>
        <source>%1 of %2, %3/s, ETA %4</source>
        <translation>%1 / %2，%3/秒，剩余 %4</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Automatic (CUDA when available)</source>
        <translation>自动（可用时使用 CUDA）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CUDA</source>
        <translation>CUDA</translation>
    </message>
    <message>
        <source>All cores</source>
        <translation>全部核心</translation>
    </message>
    <message>
        <source>As stored</source>
        <translation>保持原样</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>From the checkpoint layout</source>
        <translation>根据检查点格式</translation>
    </message>
    <message>
        <source>Original (haotian-liu/LLaVA)</source>
        <translation>原版（haotian-liu/LLaVA）</translation>
    </message>
    <message>
        <source>Transformers (llava-hf)</source>
        <translation>Transformers（llava-hf）</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>CPU &amp;threads:</source>
        <translation>CPU 线程数(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;Precision:</source>
        <translation>精度(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Context length:</source>
        <translation>上下文长度(&amp;C)：</translation>
    </message>
    <message>
        <source>T&amp;emperature:</source>
        <translation>温度(&amp;E)：</translation>
    </message>
    <message>
        <source>Top-&amp;p:</source>
        <translation>Top-p(&amp;P)：</translation>
    </message>
    <message>
        <source>Top-&amp;k:</source>
        <translation>Top-k(&amp;K)：</translation>
    </message>
    <message>
        <source>&amp;Max new tokens:</source>
        <translation>最大新词元数(&amp;M)：</translation>
    </message>
    <message>
        <source>&amp;Seed:</source>
        <translation>随机种子(&amp;S)：</translation>
    </message>
    <message>
        <source>S&amp;ystem prompt:</source>
        <translation>系统提示词(&amp;Y)：</translation>
    </message>
    <message>
        <source>&amp;Reference flavour:</source>
        <translation>参考实现(&amp;R)：</translation>
    </message>
    <message>
        <source>T&amp;heme:</source>
        <translation>主题(&amp;H)：</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <source>Use this seed for every answer (reproducible; Regenerate repeats the answer)</source>
        <translation>每次回答都使用此种子（可复现；重新生成会得到相同回答）</translation>
    </message>
    <message>
        <source>&amp;Backend</source>
        <translation>后端(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Generation</source>
        <translation>生成(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Appearance</source>
        <translation>外观(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Local model on this computer</source>
        <translation>本机上的本地模型(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;OpenAI-compatible server (vLLM, SGLang, llama-server, another Llava Insight)</source>
        <translation>OpenAI 兼容服务器（vLLM、SGLang、llama-server、另一个 Llava Insight）(&amp;O)</translation>
    </message>
    <message>
        <source>Local model</source>
        <translation>本地模型</translation>
    </message>
    <message>
        <source>&amp;Device:</source>
        <translation>设备(&amp;D)：</translation>
    </message>
    <message>
        <source>Models → Serve this model: the loaded model as an OpenAI-compatible API on 127.0.0.1.</source>
        <translation>模型 → 服务此模型：在 127.0.0.1 上以 OpenAI 兼容 API 提供已加载的模型。</translation>
    </message>
    <message>
        <source>Ser&amp;ve on port:</source>
        <translation>服务端口(&amp;V)：</translation>
    </message>
    <message>
        <source>OpenAI-compatible server</source>
        <translation>OpenAI 兼容服务器</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Sent as “Authorization: Bearer KEY”. Stored in a file only you can read, not in the settings file.</source>
        <translation>以“Authorization: Bearer KEY”发送。保存在只有您能读取的文件中，而不是设置文件中。</translation>
    </message>
    <message>
        <source>the first model the server lists</source>
        <translation>服务器列出的第一个模型</translation>
    </message>
    <message>
        <source>a built-in preset matched by the model name</source>
        <translation>按模型名称匹配的内置预设</translation>
    </message>
    <message>
        <source>The served model's config.json: the inspector computes canvas, tiles and token counts from it. A tokenizer.model beside it makes the local prompt counts exact.</source>
        <translation>所服务模型的 config.json：检查器据此计算画布、图块和词元数。其旁边的 tokenizer.model 可使本地提示词元计数精确。</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>The served model's config.json</source>
        <translation>所服务模型的 config.json</translation>
    </message>
    <message>
        <source>Model config (config.json);;JSON (*.json)</source>
        <translation>模型配置 (config.json);;JSON (*.json)</translation>
    </message>
    <message>
        <source>&amp;Test connection</source>
        <translation>测试连接(&amp;T)</translation>
    </message>
    <message>
        <source>Server &amp;URL:</source>
        <translation>服务器 URL(&amp;U)：</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API 密钥(&amp;K)：</translation>
    </message>
    <message>
        <source>&amp;Model name:</source>
        <translation>模型名称(&amp;M)：</translation>
    </message>
    <message>
        <source>Inspector &amp;config:</source>
        <translation>检查器配置(&amp;C)：</translation>
    </message>
    <message>
        <source>Enter the server's URL first.</source>
        <translation>请先输入服务器的 URL。</translation>
    </message>
    <message>
        <source>Connecting to %1…</source>
        <translation>正在连接 %1…</translation>
    </message>
    <message>
        <source>&amp;Keep int8/int4 weights on disk (later loads skip quantising)</source>
        <translation>将 int8/int4 权重保存在磁盘上(&amp;K)（以后加载无需再量化）</translation>
    </message>
    <message>
        <source>The first int8/int4 load writes llava-insight-q8.qcache / -q4.qcache beside the model (or in this app's cache folder when the model folder is read-only); later loads read it.</source>
        <translation>首次以 int8/int4 加载时，会在模型旁写入 llava-insight-q8.qcache / -q4.qcache（模型文件夹只读时写入本应用的缓存文件夹）；以后的加载直接读取它。</translation>
    </message>
</context>
<context>
    <name>SingleInstance</name>
    <message>
        <source>nobody can tell: %1 cannot be created (no permission, or the disk is full)</source>
        <translation>无法确定：无法创建 %1（没有权限，或磁盘已满）</translation>
    </message>
    <message>
        <source>an unknown process</source>
        <translation>一个未知进程</translation>
    </message>
    <message>
        <source>process %1 (%2) on %3</source>
        <translation>%3 上的进程 %1（%2）</translation>
    </message>
</context>
<context>
    <name>StageChart</name>
    <message>
        <source>Stage timeline: %1 stages, %2 ms</source>
        <translation>阶段时间线：%1 个阶段，%2 毫秒</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 毫秒</translation>
    </message>
    <message>
        <source>%1 GB/s</source>
        <translation>%1 GB/s</translation>
    </message>
    <message>
        <source>%1 GFLOP/s</source>
        <translation>%1 GFLOP/s</translation>
    </message>
    <message>
        <source>0 … %1 ms since the message was sent</source>
        <translation>0 … %1 毫秒（自消息发送起）</translation>
    </message>
    <message>
        <source>%1 GB/s of %2 (%3 %)</source>
        <translation>%1 GB/s，上限 %2（%3 %）</translation>
    </message>
    <message>
        <source>%1 GFLOP/s of %2 (%3 %)</source>
        <translation>%1 GFLOP/s，上限 %2（%3 %）</translation>
    </message>
    <message>
        <source>Ceilings of this machine: copy %1 GB/s, GEMM %2 GFLOP/s (%3 threads, %4, measured %5)</source>
        <translation>本机上限：复制 %1 GB/s，GEMM %2 GFLOP/s（%3 线程，%4，测量于 %5）</translation>
    </message>
    <message>
        <source>No machine ceilings for this answer (they are measured for the CPU backend only)</source>
        <translation>此回答没有本机上限（仅为 CPU 后端测量）</translation>
    </message>
</context>
<context>
    <name>StatusPanel</name>
    <message>
        <source>Preparing the demo model (random weights)…</source>
        <translation>正在准备演示模型（随机权重）…</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>正在加载 %1…</translation>
    </message>
    <message>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source> (the other model could not be loaded: %1)</source>
        <translation>（另一个模型无法加载：%1）</translation>
    </message>
    <message>
        <source>Loading %1: %p%</source>
        <translation>正在加载 %1：%p%</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancel loading</source>
        <translation>取消加载</translation>
    </message>
    <message>
        <source>
Auto did not pick CUDA: %1</source>
        <translation>
自动模式未选择 CUDA：%1</translation>
    </message>
    <message>
        <source>weights %1 · KV %2</source>
        <translation>权重 %1 · KV %2</translation>
    </message>
    <message>
        <source>weights %1 (%2) · KV cache %3 · scratch %4</source>
        <translation>权重 %1（%2）· KV 缓存 %3 · 临时 %4</translation>
    </message>
    <message>
        <source>TTFT %1 ms · %2 tok/s</source>
        <translation>首词元 %1 毫秒 · %2 词元/秒</translation>
    </message>
    <message>
        <source>stopped · %1</source>
        <translation>已停止 · %1</translation>
    </message>
    <message>
        <source> (random weights)</source>
        <translation>（随机权重）</translation>
    </message>
    <message>
        <source> — no CUDA (hover for why)</source>
        <translation> — 未使用 CUDA（悬停查看原因）</translation>
    </message>
    <message>
        <source>server: %1 prompt tokens (local: %2 image tokens, no tokenizer for the text)</source>
        <translation>服务器：%1 个提示词元（本地：%2 个图像词元，无文本分词器）</translation>
    </message>
    <message>
        <source>server: %1 prompt tokens (= local count)</source>
        <translation>服务器：%1 个提示词元（= 本地计数）</translation>
    </message>
    <message>
        <source>server: %1 prompt tokens ≠ local %2</source>
        <translation>服务器：%1 个提示词元 ≠ 本地 %2</translation>
    </message>
    <message>
        <source>%1 via server %2</source>
        <translation>%1（经由服务器 %2）</translation>
    </message>
    <message>
        <source>Server %1</source>
        <translation>服务器 %1</translation>
    </message>
    <message>
        <source>Answers come from the OpenAI-compatible server at %1; the inspector counts locally.</source>
        <translation>回答来自 %1 的 OpenAI 兼容服务器；检查器在本地计数。</translation>
    </message>
    <message>
        <source>Prompt tokens as the server's usage reports them, next to this app's own count of the same conversation (template, tokenizer and anyres layout).</source>
        <translation>服务器 usage 报告的提示词元数，旁边是本应用对同一对话的计数（模板、分词器和 anyres 布局）。</translation>
    </message>
    <message>
        <source> · %1 template · %2 reference</source>
        <translation> · %1 模板 · %2 参考实现</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Llava Insight is already running with the data folder %1 (%2), but it did not respond.</source>
        <translation>Llava Insight 已在使用数据文件夹 %1 运行（%2），但没有响应。</translation>
    </message>
    <message>
        <source>Close the other window (or end that process) and start again, or start with --data-dir to use another folder. Two windows on the same chats would overwrite each other's work.</source>
        <translation>请关闭另一个窗口（或结束该进程）后重新启动，或使用 --data-dir 指定另一个文件夹启动。两个窗口同时使用相同的对话会互相覆盖对方的内容。</translation>
    </message>
    <message>
        <source>Llava Insight is already running</source>
        <translation>Llava Insight 已在运行</translation>
    </message>
</context>
</TS>
