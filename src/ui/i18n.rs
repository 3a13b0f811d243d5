//! Every string of the UI in English and 简体中文, switched at run time.

/// The UI language (the top bar's English / 中文 switch; restored at the next start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// 简体中文.
    Zh,
}

impl Lang {
    /// The string in this language.
    pub fn t(self, s: S) -> &'static str {
        let (en, zh) = s.text();
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

macro_rules! strings {
    ($($key:ident => $en:literal, $zh:literal;)*) => {
        /// A UI string, named by what it says; its English and 中文 texts are in the table below.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[allow(missing_docs)] // one variant per row of the table, whose text documents it
        pub enum S { $($key),* }
        impl S {
            /// Every string (the tests check each has both texts and fits the fonts).
            pub const ALL: &'static [S] = &[$(S::$key),*];
            /// (English, 中文).
            pub fn text(self) -> (&'static str, &'static str) {
                match self { $(S::$key => ($en, $zh)),* }
            }
        }
    };
}

strings! {
    Play => "▶ Play", "▶ 训练";
    Pause => "‖ Pause", "‖ 暂停";
    Step => "Step", "单步";
    Reset => "Reset", "重置";
    Speed => "Speed", "速度";
    SpeedMax => "max", "最快";
    FullSpeed => "Full speed", "全速";
    FullSpeedHint => "Train as fast as this computer can; click again to go back to 250 steps/s, where the default session's boundary forms in about 15 s.", "以本机最快速度训练；再点一次回到每秒 250 步（默认会话的决策边界约 15 秒形成）。";
    Epoch => "Epoch", "轮次";
    Iteration => "Iteration", "迭代";
    StepCount => "Step", "步数";
    StepsPerSec => "steps/s", "步/秒";
    Fps => "fps", "帧/秒";
    SessionMenu => "Session", "会话";
    New => "New", "新建";
    Open => "Open…", "打开…";
    Save => "Save", "保存";
    SaveAs => "Save as…", "另存为…";
    ExportModel => "Export model…", "导出模型…";
    ExportModelTitle => "Export model", "导出模型";
    ModelOnnx => "ONNX (one file)", "ONNX（单个文件）";
    ModelPytorch => "PyTorch (folder: model.py + model.safetensors)", "PyTorch（文件夹：model.py + model.safetensors）";
    ExportModelButton => "Export", "导出";
    ExportModelHint => "The network as shown: raw inputs in, its outputs out (BatchNorm with the training set's statistics, dropout off)", "当前显示的网络：输入原始数据，输出网络结果（BatchNorm 使用训练集统计量，不使用 dropout）";
    NoModelYet => "no network to export yet", "暂无可导出的网络";
    ModelExported => "Model exported", "模型已导出";
    ModelExportFailed => "Model export failed", "模型导出失败";
    Recent => "Recent", "最近文件";
    NoRecent => "(none yet)", "（暂无）";
    Examples => "Examples", "示例";
    Theme => "Theme", "主题";
    Dark => "Dark", "深色";
    Light => "Light", "浅色";
    Language => "Language", "语言";
    Data => "Data", "数据";
    Network => "Network", "网络";
    Training => "Training", "训练设置";
    Noise => "Noise", "噪声";
    Samples => "Samples (n)", "样本数 (n)";
    TestFraction => "Test fraction", "测试比例";
    Seed => "Seed", "随机种子";
    Regenerate => "Regenerate", "重新生成";
    LoadCsv => "Load CSV", "载入 CSV";
    Browse => "Browse…", "浏览…";
    PathHint => "path/to/file", "文件路径";
    Classes => "Classes", "类别数";
    Teeth => "Teeth", "锯齿数";
    Bits => "Bits", "位数";
    CsvLoaded => "CSV data", "CSV 数据";
    Rows => "rows", "行";
    Inputs => "inputs", "输入";
    Regression => "regression", "回归";
    Classification => "classification", "分类";
    Features => "Input features", "输入特征";
    Layers => "Hidden layers", "隐藏层";
    AddLayer => "+ layer", "+ 层";
    RemoveLayer => "− layer", "− 层";
    Units => "units", "个神经元";
    Activation => "Activation", "激活函数";
    OutputLayer => "Output", "输出层";
    OutputShort => "Out", "输出";
    LayerShort => "L", "层";
    InputsShort => "Inputs", "输入";
    StripHint => "The first {shown} of the layer's {n} units; hover one to see it in the output view.", "该层 {n} 个神经元中的前 {shown} 个；悬停某个可在输出视图中放大。";
    Layer => "Layer", "层";
    BatchNorm => "BN", "批归一化";
    Dropout => "Dropout", "丢弃率";
    Init => "Initialiser", "初始化";
    InitScale => "scale", "尺度";
    Residual => "Residual connections", "残差连接";
    Constraint => "Weight constraint", "权重约束";
    ConstraintNone => "none", "无";
    ConstraintNonneg => "non-negative", "非负";
    Params => "Parameters", "参数数量";
    Rebuilt => "Network rebuilt", "网络已重建";
    Refused => "Refused", "已拒绝";
    Loss => "Loss", "损失函数";
    Optimizer => "Optimiser", "优化器";
    LearningRate => "Learning rate", "学习率";
    BatchSize => "Batch size", "批大小";
    Momentum => "Momentum μ", "动量 μ";
    Beta1 => "β₁", "β₁";
    Beta2 => "β₂", "β₂";
    Rho => "ρ", "ρ";
    Epsilon => "ε", "ε";
    Schedule => "Schedule", "学习率调度";
    SchedConstant => "constant", "常数";
    SchedStep => "step decay", "阶梯衰减";
    SchedExp => "exponential", "指数衰减";
    SchedCosine => "cosine", "余弦";
    Every => "every", "每";
    Gamma => "γ", "γ";
    Period => "period", "周期";
    MinLr => "min lr", "最小学习率";
    L1 => "L1", "L1";
    L2 => "L2", "L2";
    Rule => "Training rule", "训练规则";
    Backprop => "backprop", "反向传播";
    Perceptron => "perceptron", "感知机";
    FeedbackAlignment => "feedback alignment", "反馈对齐";
    LiveEdits => "Live edits recorded", "已记录的实时修改";
    StopWhen => "Stop when", "停止条件";
    StopHint => "Checked once an epoch: training pauses at the first condition met; Play continues past it.", "每轮检查一次：满足任一条件即暂停训练；再按“训练”可继续。";
    StopLoss => "training loss ≤", "训练损失 ≤";
    StopAccuracy => "training accuracy ≥ (%)", "训练准确率 ≥ (%)";
    StopEpochs => "epochs reach", "轮数达到";
    StopPatience => "test loss stalls for (epochs)", "测试损失停滞 (轮)";
    StopNeedsTest => "needs a test set", "需要测试集";
    BadNumber => "must be a positive finite number", "必须是有限的正数";
    Output => "Output", "输出";
    Discretize => "Discretise", "离散化";
    Hyperplanes => "Hyperplanes", "超平面";
    TestPoints => "Test points", "测试点";
    TrainLoss => "train loss", "训练损失";
    TestLoss => "test loss", "测试损失";
    BatchLoss => "batch loss", "批损失";
    TrainAcc => "train accuracy", "训练准确率";
    TestAcc => "test accuracy", "测试准确率";
    NoTestSet => "no test set (test fraction 0)", "没有测试集（测试比例为 0）";
    LossPlot => "Loss", "损失";
    AccuracyPlot => "Accuracy (R² for regression)", "准确率（回归为 R²）";
    GradPlot => "Gradient norm per layer", "各层梯度范数";
    UpdatePlot => "Update ratio ‖ΔW‖/‖W‖", "更新比 ‖ΔW‖/‖W‖";
    SatPlot => "Saturated / dead fraction", "饱和 / 死亡比例";
    SatDeadNote => "solid: saturated · dashed: dead", "实线：饱和 · 虚线：死亡";
    HistPlot => "Weight histogram", "权重直方图";
    LogScale => "log", "对数";
    Enlarge => "Enlarge", "放大";
    Back => "Back", "返回";
    GradTab => "Gradients", "梯度";
    UpdateTab => "Updates", "更新比";
    SatTab => "Saturation", "饱和";
    HistTab => "Weights", "权重";
    CurvatureTab => "Curvature", "曲率";
    LandscapeTab => "Landscape", "损失曲面";
    DynamicsTab => "Dynamics", "动力学";
    GeometryTab => "Geometry", "几何";
    LayoutMenu => "Layout", "布局";
    ResetLayout => "Reset layout", "重置布局";
    LayoutPresets => "Arrange for", "布局方案";
    PresetLesson => "Lesson", "课程";
    LayoutHint => "Drag a tab to move a view: onto another tab bar to group it, to an edge to split. Drag the gap between views to resize them. The layout is remembered.", "拖动标签可移动视图：拖到另一个标签栏可合并，拖到边缘可拆分。拖动视图之间的间隙可调整大小。布局会被记住。";
    Saturated => "saturated", "饱和";
    NoSatLayers => "No sigmoid, tanh or ReLU layer: nothing saturates or dies", "没有 sigmoid、tanh 或 ReLU 层：不会饱和或死亡";
    Dead => "dead", "死亡";
    Diverged => "Training diverged", "训练发散";
    DivergedBody => "the loss became NaN or infinite, so training was paused.", "损失变为 NaN 或无穷大，训练已暂停。";
    LowerLr => "Lower learning rate ÷10 and reset", "学习率 ÷10 并重置";
    Crashed => "The training thread crashed", "训练线程崩溃";
    CrashedBody => "The window is fine; press Reset to start again.", "窗口仍可使用；请按重置重新开始。";
    Error => "Error", "错误";
    Dismiss => "Dismiss", "关闭";
    NoMap => "The output view needs 1-D or 2-D inputs.", "输出视图需要一维或二维输入。";
    Neuron => "neuron", "神经元";
    HoverHint => "Hover a neuron to enlarge it; click an edge to edit its weight.", "悬停神经元可放大；点击连线可编辑权重。";
    Weight => "Weight", "权重";
    Apply => "Apply", "应用";
    Close => "Close", "关闭";
    OpenTitle => "Open session", "打开会话";
    SaveTitle => "Save session as", "会话另存为";
    Path => "Path", "路径";
    SessionsFolder => "Sessions in sessions/", "sessions/ 中的会话";
    Saved => "Saved", "已保存";
    Opened => "Opened", "已打开";
    Working => "Working…", "处理中…";
    NotSaved => "not saved yet", "尚未保存";
    Target => "target", "目标";
    Fitted => "network", "网络输出";
    TrainPoints => "train", "训练集";
    Wide => "wide layer", "宽层";
    Mistakes => "mistakes", "错误次数";
    Steps10 => "+10", "+10";
    Eval => "Evaluation", "评估";
    Accuracy => "accuracy", "准确率";
    RuleNeedsRebuild => "changing the rule rebuilds the network", "修改训练规则会重建网络";
    PerceptronNote => "perceptron: one step layer, no hidden layers", "感知机：单个阶跃层，无隐藏层";
    ClassifierOnly => "needs class labels", "需要类别标签";
    Untitled => "untitled", "未命名";
    MustBeFinite => "must be a finite number", "必须是有限数";
    Tiles => "Views", "视图";
    CurvaturePlot => "Curvature (Hessian spectrum)", "曲率（海森矩阵谱）";
    CurvOn => "On", "开启";
    StepsUnit => "steps", "步";
    AnalyseNow => "Analyse now", "立即分析";
    Hessian => "Hessian", "海森矩阵";
    GaussNewton => "Gauss–Newton", "高斯-牛顿";
    GnNote => "Gauss–Newton is positive semi-definite: it cannot show negative curvature.", "高斯-牛顿矩阵半正定：无法显示负曲率。";
    CurvOff => "Off: nothing is computed. Turn it on to follow the spectrum of the Hessian while the network trains, or analyse the current parameters once.", "已关闭：不进行任何计算。开启后可在训练时跟踪海森矩阵的谱，也可只分析一次当前参数。";
    Computing => "computing step", "正在计算，步数";
    Analysed => "last: step", "上次：步数";
    Dense => "dense", "稠密";
    LanczosSlq => "Lanczos + SLQ", "Lanczos + SLQ";
    Spectrum => "Spectrum", "谱";
    LambdaPlot => "λ_max, λ_min", "λ_max、λ_min";
    KappaPlot => "Condition number κ", "条件数 κ";
    NegPlot => "Negative eigenvalues", "负特征值个数";
    VecPlot => "Top eigenvectors per layer", "主特征向量的各层分布";
    EdgeNote => "Gradient descent with step η is unstable along directions with λ > 2/η (with momentum or Adam the threshold differs).", "步长为 η 的梯度下降在 λ > 2/η 的方向上不稳定（动量或 Adam 的阈值不同）。";
    LogAbs => "log |λ|", "对数 |λ|";
    Positive => "λ > 0", "λ > 0";
    Negative => "λ < 0", "λ < 0";
    Density => "density (SLQ estimate)", "密度（SLQ 估计）";
    Eigenvalues => "eigenvalues", "特征值";
    Share => "share of ‖v‖²", "‖v‖² 占比";
    WbNote => "solid: weights W; light: b, γ, β, α", "实色：权重 W；浅色：b、γ、β、α";
    Zeros => "|λ| ≈ 0 not shown", "|λ| ≈ 0 未显示";
    NegEstimate => "estimated from the SLQ density", "由 SLQ 密度估计";
    CurvFailed => "Curvature analysis failed", "曲率分析失败";
    Trace => "trace", "迹";
    NoAnalysis => "No analysis yet.", "尚无分析结果。";
    Top => "top", "前";
    // lessons panel
    Lessons => "Lessons", "课程";
    LessonsHint => "Each lesson is a session that shows one claim of the theory: open it, press Play, watch.", "每一课都是展示一条理论结论的会话：打开它，按“训练”，观察。";
    TheoryRow => "THEORY.md row", "THEORY.md 行号";
    ExpectedOutcome => "Expected outcome (checked headless):", "预期结果（可无界面验证）：";
    OpenLesson => "Open", "打开";
    CheckLesson => "Check", "验证";
    CheckLessonHint => "Run the lesson's measurement on a helper thread and compare with the expected numbers.", "在后台线程运行本课的测量，并与预期数值比较。";
    Measured => "measured", "实测";
    Expected => "expected", "预期";
    Pass => "pass", "通过";
    Fail => "FAIL", "未通过";
    LessonPassed => "Every expectation holds.", "所有预期均成立。";
    LessonFailed => "Some expectation does not hold.", "有预期不成立。";
    WhatToWatch => "What to look at", "看什么";
    AllLessons => "All lessons", "全部课程";
    ControlHeading => "Control (the claim's precondition removed; the check must fail there)", "对照（去掉结论的前提条件；检查在这里必须不成立）";
    ControlFails => "The control fails as expected", "对照如预期般不成立";
    ControlBroken => "BROKEN: the control passes too, so the check shows nothing", "有问题：对照也通过了，检查什么也没证明";
    ControlError => "The control could not run", "对照无法运行";
    SeedRate => "Pass rate over seeds 1–20", "种子 1–20 的通过率";
    SeedRateHint => "Re-run the check and its control with seeds 1 to 20 (data and initialisation) on a helper thread.", "在后台线程用种子 1 到 20（数据与初始化）重新运行检查及其对照。";
    SeedRatePassed => "passed on", "通过的种子数";
    SeedRateControl => "control failed on", "对照不成立的种子数";
    SeedRateOf => "of", "/";
    // landscape and dynamics panels
    LandscapePlot => "Loss landscape", "损失曲面";
    DynamicsPlot => "Training dynamics", "训练动力学";
    GeometryPlot => "Function geometry", "函数几何";
    GeoMode => "Instrument", "工具";
    GeoRegions => "Linear regions", "线性区域";
    GeoJacobian => "Jacobian singular values", "雅可比奇异值";
    GeoRegionCount => "linear regions", "个线性区域";
    GeoBreakpoints => "breakpoints", "断点";
    GeoWaiting => "Waiting for the network…", "等待网络……";
    GeoNeedsLowDim => "Linear regions are drawn for 1-D or 2-D inputs only. Inputs here:", "线性区域只对 1 维或 2 维输入绘制。此处输入维数：";
    GeoNeedsRaw => "This input feature is not linear in x, so the regions are not polygons; use the raw inputs. Feature:", "该输入特征对 x 不是线性的，区域不再是多边形；请使用原始输入。特征：";
    GeoNotPiecewiseLinear => "A hidden activation is not piecewise linear, so the network has no linear regions (use relu, leaky_relu, prelu, identity or step). Activation:", "有隐藏层的激活函数不是分段线性的，网络没有线性区域（请用 relu、leaky_relu、prelu、identity 或 step）。激活函数：";
    GeoNeedsTwoHidden => "The layer-to-layer Jacobian needs at least two hidden layers. Hidden layers here:", "层间雅可比矩阵至少需要两个隐藏层。此处隐藏层数：";
    GeoTooWide => "A hidden layer is too wide for the Jacobian spectrum (an SVD per point and depth). Widest:", "隐藏层太宽，无法计算雅可比谱（每个点、每层一次奇异值分解）。最宽层：";
    GeoLayer => "hidden layer l", "隐藏层 l";
    GeoSigma => "singular values σ of dh_l / dh_1", "dh_l / dh_1 的奇异值 σ";
    GeoDeepest => "deepest layer", "最深层";
    GeoHistogram => "histogram per layer", "每层直方图";
    GeoSpread => "spread std/mean", "离散度 std/mean";
    GeoMeasured => "√mean σ² (measured)", "√mean σ²（实测）";
    GeoPredicted => "√∏ σ_w²χ (mean field)", "√∏ σ_w²χ（平均场）";
    LandscapeView => "landscape view", "曲面视图";
    DynamicsAnalysis => "dynamics analysis", "动力学分析";
    ModeRandom => "random directions", "随机方向";
    ModeHessian => "top-2 Hessian eigenvectors", "海森矩阵前两个特征向量";
    ModePca => "PCA plane of the trajectory", "轨迹的主成分平面";
    ModeLine => "line θ₀ → θ", "直线 θ₀ → θ";
    ModeTiny => "1-1-1 network, exact", "1-1-1 网络（精确）";
    ModeRace => "optimiser race", "优化器竞赛";
    GridSize => "grid", "网格";
    Radius => "radius", "半径";
    LogColour => "log colour", "对数着色";
    Compute => "Compute", "计算";
    FollowTraining => "follow training", "跟随训练";
    Preview => "coarse preview", "粗略预览";
    Refining => "refining", "细化中";
    WaitingTheta => "waiting for θ…", "等待参数 θ…";
    LandNone => "Nothing computed yet. Choose the directions and press Compute: a coarse preview comes first, then the refined grid.", "尚未计算。选择方向后点击“计算”：先显示粗略预览，再显示精细网格。";
    LandFailed => "Landscape failed", "损失曲面计算失败";
    TrainPath => "training path", "训练轨迹";
    CurrentTheta => "current θ", "当前 θ";
    StartTheta => "θ₀ (start)", "θ₀（起点）";
    IndefNote => "lighter, edged in orange: the 2×2 Hessian is indefinite (saddle-shaped), so the surface is not convex there", "浅色、橙色边界的区域：2×2 海森矩阵不定（鞍形），曲面在此处非凸";
    Indefinite => "indefinite", "不定";
    LossMse => "MSE", "均方误差";
    LossCe => "cross-entropy", "交叉熵";
    OffPlane => "largest distance off the plane / distance travelled", "离开平面的最大距离 / 移动距离";
    LineNote => "t = 0: θ₀ (start), t = 1: the current θ", "t = 0：θ₀（起点），t = 1：当前 θ";
    Explained => "explained variance", "解释方差";
    TinyData => "one point: x = 1, y = 0 (MSE) or y = 1 (cross-entropy); u = w₂·σ(w₁x)", "单个样本：x = 1，y = 0（均方误差）或 y = 1（交叉熵）；u = w₂·σ(w₁x)";
    RaceNote => "every optimiser from θ₀, full batch, the same η; the plane holds their end points", "所有优化器从 θ₀ 出发，全批量，相同 η；平面经过它们的终点";
    DivergedShort => "diverged", "发散";
    Kinetic => "kinetic ½m‖θ̇‖²", "动能 ½m‖θ̇‖²";
    Potential => "potential J(θ)", "势能 J(θ)";
    TotalEnergy => "total E", "总能量 E";
    KindLyapunov => "Lyapunov exponent", "李雅普诺夫指数";
    KindFlow => "GD vs gradient flow", "梯度下降与梯度流";
    KindEnergy => "momentum energy", "动量的能量";
    KindSignal => "signal propagation", "信号传播";
    KindNewton => "Newton vs GD", "牛顿法与梯度下降";
    Run => "Run", "运行";
    EtaFraction => "η / (2/λ_max)", "η / (2/λ_max)";
    TopDirection => "offset along the top eigenvector", "沿最大特征向量偏移";
    Predicted => "predicted", "预测";
    ExponentPlot => "λ_t against step", "λ_t 随步数变化";
    SweepPlot => "exponent against η", "指数随 η 变化";
    LyapNote => "ε-apart twin GD runs: λ_t = (1/t)·ln(‖Δθ_t‖/‖Δθ₀‖). Linear prediction along the top eigenvector: ln|1 − ηλ_max|, negative for η < 2/λ_max and positive beyond.", "相距 ε 的两条梯度下降轨迹：λ_t = (1/t)·ln(‖Δθ_t‖/‖Δθ₀‖)。沿最大特征向量的线性预测为 ln|1 − ηλ_max|：η < 2/λ_max 时为负，超过后为正。";
    FlowErrorPlot => "‖θ_GD − θ_flow‖ against time", "‖θ_GD − θ_flow‖ 随时间变化";
    FlowSweepPlot => "error at a fixed time against η (log-log)", "固定时刻的误差随 η 变化（双对数）";
    Slope => "slope", "斜率";
    Time => "time t = kη", "时间 t = kη";
    EnergyIncreases => "steps where E rose", "E 上升的步数";
    SignalPlot => "backward ratio per layer at initialisation", "初始化时各层的反向比值";
    SignalPredicted => "predicted σ_w²χ", "预测 σ_w²χ";
    SignalMeasured => "measured ‖δ(l−1)‖² / ‖δ(l)‖²", "实测 ‖δ(l−1)‖² / ‖δ(l)‖²";
    NewtonPlot => "loss against iteration", "损失随迭代变化";
    NewtonName => "Newton (saddle-free)", "牛顿法（无鞍点）";
    GdName => "GD, η = 1/λ_max", "梯度下降，η = 1/λ_max";
    NewtonTooLarge => "Newton needs the dense Hessian: at most 3000 parameters.", "牛顿法需要稠密海森矩阵：最多 3000 个参数。";
    Damping => "damping λ", "阻尼 λ";
    LineSearch => "line search", "线搜索";
    DynNone => "Choose an analysis and press Run: it starts from the current θ of the training.", "选择一种分析并点击“运行”：从当前训练参数 θ 开始。";
    DynFailed => "Analysis failed", "分析失败";
    Before => "before", "之前";
    After => "after", "之后";
    NegativeEigs => "negative eigenvalues", "负特征值";
    // ui polish
    Fit => "Fit", "适应窗口";
    FitHint => "Wheel or pinch to zoom, drag the background to pan; Fit shows the whole network.", "滚轮或双指缩放，拖动背景平移；“适应窗口”显示整个网络。";
    Diagram => "Network diagram", "网络结构图";
    HyperplaneHint => "Where each first-layer unit's activation argument is zero (w·φ(x) + b, after BatchNorm if on): straight lines for raw x₁, x₂, curves for other features.", "第一层每个单元激活函数自变量为零的位置（w·φ(x) + b，若启用则为 BatchNorm 之后）：原始 x₁、x₂ 时为直线，其他特征时为曲线。";
    // sessions (timeline, compare, export, recovery)
    ExportHover => "Export this view (PNG, CSV)", "导出此视图（PNG、CSV）";
    ExportTitle => "Export", "导出";
    SavePng => "Save PNG", "保存 PNG";
    SaveCsv => "Save CSV", "保存 CSV";
    ExportedTo => "Exported", "已导出";
    TileHidden => "That view is not on the screen: show it, then export again.", "该视图不在屏幕上：请先显示它，再导出。";
    Compare => "Compare", "对比";
    CompareTitle => "Compare runs", "对比训练";
    CompareEmpty => "No runs yet: add the current run, a session file, or start a variant.", "暂无训练：请添加当前训练、会话文件，或启动一个变体。";
    CurrentRun => "current run", "当前训练";
    AddCurrent => "+ current run", "+ 当前训练";
    AddFile => "+ file", "+ 文件";
    Remove => "Remove", "移除";
    Variant => "Variant: change", "变体：修改";
    StartVariant => "▶ Start variant", "▶ 启动变体";
    VariantNote => "A variant trains from step 0 with the same data and seed, on its own thread, as many steps as the current run.", "变体从第 0 步开始，使用相同的数据与随机种子，在独立线程上训练，步数与当前训练相同。";
    NeedPositive => "must be a positive number", "必须是正数";
    RecentFiles => "Recent files", "最近文件";
    RecoveryTitle => "Restore unsaved work?", "恢复未保存的工作？";
    RecoveryBody => "nnlab did not exit cleanly last time. Unsaved work was kept:", "nnlab 上次未正常退出，已保留未保存的工作：";
    Restore => "Restore", "恢复";
    Discard => "Discard", "丢弃";
    Restored => "Restored the unsaved work", "已恢复未保存的工作";
    RecoveryFirst => "Choose Restore or Discard first", "请先选择恢复或丢弃";
    UnsavedTitle => "Unsaved work", "未保存的工作";
    UnsavedBody => "This experiment has changes that are not saved. Save them before closing?", "此实验有未保存的更改。关闭前要保存吗？";
    DiscardClose => "Close without saving", "不保存并关闭";
    Cancel => "Cancel", "取消";
    Timeline => "Timeline", "时间轴";
    TimelinePaused => "pause to replay any step", "暂停后可回放任意一步";
    TimelineEmpty => "train, then pause to replay any step", "训练后暂停即可回放任意一步";
    Recomputing => "computing…", "计算中…";
    Showing => "showing step", "当前显示步数";
    BackToLive => "Back to live", "回到实时";
    ForkHere => "Fork from here", "从此处分叉";
    ForkHover => "A new, unsaved session that continues from this step", "从这一步继续的新会话（未保存）";
    Forked => "Forked at step", "已分叉，步数";
    // round 2
    SpectrumAtStored => "Spectrum at step {n} (stored)", "第 {n} 步的谱（已存储）";
    NoStoredSpectrum => "No stored spectrum at or before step {n}", "第 {n} 步及之前没有已存储的谱";
    StoredOnly => "stored eigenvalues only: the layer shares and the full density were not saved", "仅有已存储的特征值：各层分布与完整密度未保存";
    // checkpoint budget
    CheckpointBudget => "Checkpoint budget", "检查点容量";
    CheckpointBudgetHint => "Space the checkpoints (θ and the optimiser state, dense early, thinner later) may take in the recording and the saved file; over it, checkpoints in the densest stretch are dropped, never the first or the last.", "记录与保存文件中检查点（θ 与优化器状态，前期密集、后期稀疏）最多占用的容量；超出时删去最密集处的检查点，第一个和最后一个总是保留。";
    // Spectral bias tile (issue 15)
    SpectralPlot => "Spectral bias: the residual per frequency", "频谱偏置：各频率上的残差";
    SpectralTab => "Spectrum", "频谱";
    SpecNeeds1D => "The residual spectrum is measured on 1-D inputs; inputs here:", "残差频谱在一维输入上测量；此处的输入数：";
    SpecNeedsRegression => "The residual spectrum is measured on regression targets; this data has class labels.", "残差频谱在回归目标上测量；此数据是类别标签。";
    SpecNeedsOneOutput => "The residual spectrum needs one output unit; output units here:", "残差频谱需要一个输出单元；此处的输出单元数：";
    SpecTooFewRows => "The residual spectrum needs at least 4 training rows; rows here:", "残差频谱至少需要 4 行训练数据；此处的行数：";
    SpecWaiting => "Waiting for a snapshot of training…", "等待训练快照…";
    SpecPeaks => "relative error at the target's peaks", "目标峰值处的相对误差";
    SpecOnePeak => "The target has fewer than two frequency peaks: there is no order to watch.", "目标的频率峰少于两个：没有顺序可观察。";
    SpecHeatmap => "residual amplitude / largest target amplitude", "残差幅度 / 目标最大幅度";
    SpecFrequency => "frequency k", "频率 k";
    SpecRelError => "|r̂(k)|/|ŷ(k)|", "|r̂(k)|/|ŷ(k)|";
    SpecThreshold => "learned below 0.1", "低于 0.1 即已学会";
    // edge of stability per optimiser (N1)
    EdgeOfStability => "edge of stability", "稳定性边缘";
    EdgeRuleNote => "The update is unstable along a direction once the quantity passes this threshold: GD 2/η; heavy-ball momentum (2+2μ)/η; Nesterov (2+2μ)/((1+2μ)η); RMSprop and AdaGrad 2/η and Adam (2+2β₁)/((1−β₁)η) on λ_max(P^−1·H), P the optimiser's preconditioner √v̂ + ε.", "一旦该量超过此阈值，更新在该方向上就不稳定：梯度下降 2/η；重球动量 (2+2μ)/η；Nesterov (2+2μ)/((1+2μ)η)；RMSprop 与 AdaGrad 为 2/η、Adam 为 (2+2β₁)/((1−β₁)η)，作用于 λ_max(P^−1·H)，P 为优化器的预条件矩阵 √v̂ + ε。";
    EdgeNone => "no stability threshold: this rule's update is not the gradient of the objective", "没有稳定性阈值：此规则的更新不是目标函数的梯度";
    EdgeClipped => "gradient clipping is on: the threshold describes the unclipped step", "梯度裁剪已开启：阈值描述的是未裁剪的步";
    EdgePending => "forms after the first step", "第一步之后才形成";
    EdgeFailed => "edge of stability failed", "稳定性边缘计算失败";
    // regimes (frozen layers, double descent)
    DoubleDescentPlot => "Double descent: test error against features", "双下降：测试误差与特征数";
    DdTab => "Double descent", "双下降";
    DdRidge => "Ridge", "岭";
    DdRidgeHint => "Add ½λ‖w‖² to the readout's mean squared error (bias unpenalised); off: the minimum-norm least-squares readout, what gradient descent from zero converges to.", "在读出层的均方误差上加 ½λ‖w‖²（偏置不惩罚）；关闭时为最小范数最小二乘读出，即从零出发的梯度下降收敛到的解。";
    DdWaiting => "Computing the sweep…", "正在计算扫描…";
    DdPeakAt => "peak at", "峰值位于";
    DdTestError => "test error", "测试误差";
    DdPeakOverWide => "peak / error at 10n:", "峰值 / 10n 处误差：";
    DdFeatures => "random features p", "随机特征数 p";
    DdThreshold => "p + 1 = n", "p + 1 = n";
    DdMinNorm => "minimum norm (λ = 0)", "最小范数（λ = 0）";
    DdNeedsOneHidden => "Double descent sweeps the width of one hidden layer: this network needs exactly one hidden layer and the output.", "双下降扫描单个隐藏层的宽度：该网络需要恰好一个隐藏层和输出层。";
    DdNeedsLinearReadout => "Double descent fits a linear readout by least squares: the output must be one identity unit with the mse loss.", "双下降用最小二乘拟合线性读出层：输出层须为一个恒等单元，损失为 mse。";
    DdNeedsNoBatch => "Double descent needs features that do not depend on the batch: remove BatchNorm and dropout.", "双下降需要不依赖批次的特征：请去掉 BatchNorm 和 dropout。";
    DdNeedsTest => "Double descent measures the test error: the data needs training and test rows (test fraction above 0).", "双下降测量测试误差：数据需要训练行和测试行（测试比例大于 0）。";
    DdTooManyRows => "Double descent sweeps p up to 10 × the training rows: at most 500 training rows.", "双下降把 p 扫到训练行数的 10 倍：训练行最多 500 行。";
    FrozenLayer => "Frozen (not trained)", "冻结（不训练）";
    FrozenShort => "frozen", "冻结";
    FrozenHint => "Training leaves this layer's parameters exactly as they are (a random-features layer when it is the first).", "训练完全不改变该层参数（若为第一层，即随机特征层）。";

    // Regression fit (issue 14 §4)
    AccuracyTab => "Accuracy", "准确率";
    TrainR2 => "train R²", "训练 R²";
    TestR2 => "test R²", "测试 R²";
    TrainRmse => "train RMSE", "训练 RMSE";
    // Data by formula (issue 14 §4)
    FormulaLabel => "Formula", "公式";
    FormulaHint => "e.g. x1^2 + x2 > 0.5 or sin(3*x1), then Enter", "例如 x1^2 + x2 > 0.5 或 sin(3*x1)，按回车";
    // Draw the data, confusion matrix (issue 14 §4, helper D)
    TrainLegend => "train", "训练";
    TestLegend => "test", "测试";
    DrawToggle => "Draw", "绘制";
    DrawHint => "Draw the data on the map: click adds a point of the chosen class, drag a point to move it, right-click (or Shift-click) a point to delete it. The first edit turns the data into inline rows, saved with the session.", "在图上绘制数据：单击添加所选类别的点，拖动点可移动，右键（或 Shift+单击）点可删除。第一次编辑会把数据变为内联数据行，随会话保存。";
    DrawClass => "Class", "类别";
    DrawTarget => "Target", "目标值";
    DrawClear => "Clear", "清空";
    DrawUndo => "Undo", "撤销";
    DrawRedo => "Redo", "重做";
    DrawFirst => "The data has no points: draw at least one on the map first.", "数据中没有点：请先在图上至少画一个点。";
    DrawHowTo => "click: add a point · drag a point: move it · right-click or Shift-click: delete it", "单击：添加点 · 拖动点：移动 · 右键或 Shift+单击：删除";
    DrawEmpty => "No points: click on the map to add one.", "没有点：在图上单击即可添加。";
    DrawNeeds2 => "Drawing needs data with 2 inputs (the map's axes); inputs here:", "绘制需要 2 个输入的数据（图的两个坐标轴）；此处的输入数：";
    ConfusionPlot => "Confusion matrix", "混淆矩阵";
    ConfusionTab => "Confusion", "混淆";
    ConfusionRegression => "Regression: a confusion matrix counts classes, and this data has real-valued targets. See RMSE and R² in the Output tile and the Accuracy plot.", "回归：混淆矩阵统计的是类别，而此数据的目标是实数。请看输出图块和准确率图中的 RMSE 与 R²。";
    ConfusionWaiting => "Waiting for a snapshot of training…", "等待训练快照…";
    ConfusionAxes => "rows: true class · columns: predicted class", "行：真实类别 · 列：预测类别";
    ConfusionAccuracy => "accuracy", "准确率";
    ConfusionRecall => "recall", "召回率";
    ConfusionPrecisionShort => "prec.", "精确率";
    ConfusionLegend => "Colour: the cell's share of its row (blue on the diagonal, orange off it). Recall: of a class's rows, the share predicted as it; precision: of the rows predicted as a class, the share that are it.", "颜色：单元格占其所在行的比例（对角线为蓝色，其余为橙色）。召回率：某类的行中被预测为该类的比例；精确率：被预测为某类的行中确属该类的比例。";
    ConfusionTooMany => "Too many classes to draw as a grid; export CSV for every count", "类别太多，无法画成网格；导出 CSV 可得全部计数";
    DrawTooMany => "Drawing works on at most 10 000 points; points here:", "绘制最多支持 10 000 个点；此处的点数：";
    // The update as an outer product, in the Network tile (issue 15 §4, helper E)
    LuTitle => "Last update ΔW", "上一步更新 ΔW";
    LuHint => "Pick a layer (or click its header in the diagram): the ΔW of the last training step beside −η (1/m) Σ δ a^T computed from that step's batch.", "选择一层（或点击图中该层的标题）：上一训练步的 ΔW 与由该步批量计算的 −η (1/m) Σ δ a^T 并排显示。";
    LuHintShort => "pick a layer, or click its header above", "选择一层，或点击上方该层的标题";
    LuPicker => "Layer whose last update is shown", "显示其上一步更新的层";
    LuNoStep => "No training step has moved θ since the network was built, reset or edited: press Step to see an update.", "自网络构建、重置或编辑以来，还没有训练步改变 θ：按“单步”查看一次更新。";
    LuWaiting => "Fetching the last step…", "正在获取上一步…";
    LuBatch => "batch", "批量";
    LuPrediction => "prediction", "预测";
    LuRelative => "relative", "相对";
    LuRank => "rank", "秩";
    LuRankPredicted => "rank of the prediction", "预测的秩";
    LuTooLargeForRank => "Rank not computed: the matrix is too large for an SVD at every step.", "未计算秩：矩阵太大，无法每步做一次 SVD。";
    LuTooLargeToDraw => "The matrix has more than 2048 rows or columns: not drawn.", "矩阵的行或列超过 2048：不绘制。";
    LuUnit => "unit", "单元";
    LuInput => "input", "输入";
    LuAdaptive => "Not an outer product: Adam, RMSprop and AdaGrad divide each entry of the gradient by its own running scale, so ΔW is no longer a sum of outer products δ a^T (its rank shows it). Optimiser here:", "不是外积：Adam、RMSprop 和 AdaGrad 把梯度的每个分量除以它自己的滑动尺度，因此 ΔW 不再是外积 δ a^T 之和（看它的秩）。此处的优化器：";
    LuMomentum => "Not this batch's outer products: momentum adds the earlier steps' gradients, so ΔW sums over past batches. Optimiser here:", "不是本批量的外积：动量加入了之前各步的梯度，因此 ΔW 是过去各批量之和。此处的优化器：";
    LuPerceptron => "The perceptron rule updates on mistakes by the targets, not by the gradient: there is no −η δ a^T to compare.", "感知机规则在出错时按目标更新，而不是按梯度：没有 −η δ a^T 可比较。";
    LuFeedback => "Feedback alignment sends errors back through fixed random matrices instead of W^T: ΔW is an outer product, but not with the gradient's δ.", "反馈对齐通过固定的随机矩阵而不是 W^T 回传误差：ΔW 是外积，但不是梯度的 δ 的外积。";
    LuBatchNorm => "BatchNorm couples the rows of a batch: the update is not a sum of per-row outer products. BatchNorm in layer", "BatchNorm 使批量中的各行相互关联：更新不是逐行外积之和。BatchNorm 所在层：";
    LuDropout => "Dropout's random masks are not visible to the prediction. Dropout in layer", "预测看不到 dropout 的随机掩码。dropout 所在层：";
    LuPenalty => "A weight penalty adds −η ∇(penalty) to ΔW, which is not an outer product:", "权重惩罚在 ΔW 中加入 −η ∇(惩罚)，它不是外积：";
    LuClipped => "Gradient clipping rescales or clamps the gradient: ΔW is not −η (1/m) Σ δ a^T.", "梯度裁剪会缩放或截断梯度：ΔW 不是 −η (1/m) Σ δ a^T。";
    LuConstrained => "The non-negative weight constraint projects W after the step: ΔW is not −η (1/m) Σ δ a^T.", "非负权重约束在更新后投影 W：ΔW 不是 −η (1/m) Σ δ a^T。";
    LuFrozen => "This layer is frozen: training does not move it (ΔW = 0).", "该层已冻结：训练不改变它（ΔW = 0）。";
    LuPruned => "Pruned weights are held at 0, so ΔW differs from the prediction there. Pruned weights in this layer:", "被剪枝的权重保持为 0，因此 ΔW 在这些位置与预测不同。该层被剪枝的权重数：";
    // The depth/width sweep of linear regions, in the Geometry tile (issue 15 §1, helper E)
    SweepButton => "Sweep depth / width", "扫描深度 / 宽度";
    SweepHint => "Rebuild this network at depths 1–4 (hidden layers as wide as the first) and at widths 2, 4, 8, 16 (every hidden layer), train each from a few seeds as the session is set up, and count its exact linear regions over this box (as nnlab regions --sweep).", "以深度 1–4（每个隐藏层与第一层同宽）和宽度 2、4、8、16（每个隐藏层）重建该网络，按会话的设置从几个种子各自训练，并在此框内统计其精确线性区域数（同 nnlab regions --sweep）。";
    SweepSteps => "steps", "步数";
    SweepInits => "seeds", "种子数";
    SweepRun => "Run again", "重新运行";
    SweepCancel => "Cancel", "取消";
    SweepNone => "The sweep was cancelled: press Run again.", "扫描已取消：请按“重新运行”。";
    SweepAgainstDepth => "Regions against depth", "区域数与深度";
    SweepAgainstWidth => "Regions against width", "区域数与宽度";
    SweepDepth => "hidden layers", "隐藏层数";
    SweepWidth => "units per hidden layer", "每个隐藏层的单元数";
    SweepUnits => "units", "个单元";
    SweepRegions => "linear regions", "线性区域数";
    SweepMean => "mean over seeds", "各种子平均";
    // Neural collapse tile (issue 16 §4, helper E)
    CollapsePlot => "Neural collapse of the last hidden layer", "最后隐藏层的神经坍缩";
    CollapseTab => "Collapse", "坍缩";
    NcNeedsClasses => "Neural collapse is measured on class labels; this data is a regression.", "神经坍缩在类别标签上测量；此数据是回归。";
    NcNeedsThree => "Neural collapse is shown for 3 or more classes (with 2, the two centred means are always opposite); classes here:", "神经坍缩针对 3 个或更多类别显示（2 类时两个中心化均值总是相反）；此处的类别数：";
    NcNeedsOnePerClass => "Neural collapse needs one output unit per class (a softmax output); classes / output units here:", "神经坍缩需要每个类别一个输出单元（softmax 输出）；此处的类别数 / 输出单元数：";
    NcNeedsHidden => "Neural collapse is measured on the last hidden layer: this network has none.", "神经坍缩在最后一个隐藏层上测量：该网络没有隐藏层。";
    NcTooWide => "The last hidden layer is too wide for the dense d × d matrices:", "最后隐藏层太宽，无法计算稠密的 d × d 矩阵：";
    NcEvery => "every (steps)", "间隔（步）";
    NcSimplex => "simplex −1/(K−1)", "单纯形 −1/(K−1)";
    NcAccuracy => "train accuracy", "训练准确率";
    NcPca => "Last hidden layer, 2-D PCA, by class", "最后隐藏层的二维 PCA（按类别着色）";
    NcClass => "class", "类别";
    NcOne => "NC1 = tr(Σ_W Σ_B^+)/K: within-class spread → 0", "NC1 = tr(Σ_W Σ_B^+)/K：类内离散 → 0";
    NcCosine => "mean cosine of centred class means → −1/(K−1)", "中心化类均值的平均余弦 → −1/(K−1)";
    NcThree => "NC3 = ‖W/‖W‖ − M/‖M‖‖²: classifier aligned with the means → 0", "NC3 = ‖W/‖W‖ − M/‖M‖‖²：分类器与均值对齐 → 0";
    NcFour => "NC4: nearest class mean agrees with the network → 1", "NC4：最近类均值与网络一致 → 1";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_has_both_languages() {
        for s in S::ALL {
            let (en, zh) = s.text();
            assert!(!en.is_empty() && !zh.is_empty(), "{s:?}");
        }
    }
}
