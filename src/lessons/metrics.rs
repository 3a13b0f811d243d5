//! The numbers a lesson's check can measure, each computed with the library's own analyses
//! on a run of the session (at its initial θ, or after training).

use serde::{Deserialize, Serialize};

use crate::analysis::collapse::{self, Collapse};
use crate::analysis::dynamics::{Direction, NetObjective, log_log_slope, lyapunov};
use crate::analysis::hessian::{Method, Options, analyse};
use crate::analysis::spectral_bias::{BandHistory, converge_in_order};
use crate::analysis::spectrum::dense_eigen;
use crate::analysis::stability::EdgeSeries;
use crate::analysis::{dynamics::signal_propagation, hessian::dense_hessian};
use crate::error::{Error, Result};
use crate::net::linalg::{dot, norm};
use crate::net::network::BnMode;
use crate::net::{Rows, Workspace, objective};
use crate::optim::spec::OptimizerKind;
use crate::rng::Rng;
use crate::session::Session;
use crate::train::Trainer;

use super::Check;
use super::measures;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
/// A number a lesson's check can measure on a run, named in the lesson file in snake_case
/// (`train_loss`, `grad_ratio_first_last` …).
#[serde(rename_all = "snake_case")]
pub enum Metric {
    // At the initial θ.
    /// Training objective at θ₀.
    InitLoss,
    /// ‖∂J/∂W⁽¹⁾‖ / ‖∂J/∂W⁽ᴸ⁾‖ of the full-batch objective at θ₀.
    GradRatioFirstLast,
    /// max over the hidden layers with fan-in ≥ 16 of |measured / predicted − 1| of the
    /// backward ratio σ_w²χ, pooled over 4 seeds.
    SignalMaxRelError,
    /// Mean over the hidden layers with fan-in ≥ 16 of the measured ratio
    /// E‖δ⁽ˡ⁻¹⁾‖²/E‖δ⁽ˡ⁾‖².
    SignalMeanMeasured,
    /// Mean over the hidden layers with fan-in ≥ 16 of the predicted ratio σ_w²χ.
    SignalMeanPredicted,
    /// Std of the last hidden layer's activations / std of the first's, at θ₀.
    ActStdLastOverFirst,
    /// ‖∂J/∂(W, b)‖ of the output layer at θ₀.
    OutputGrad,
    /// λ_max of the dense Hessian at θ₀.
    InitLambdaMax,
    /// Number of negative Hessian eigenvalues at θ₀.
    InitNegativeEigenvalues,
    /// Angle (degrees) between the output layer's feedback matrix B and its W at θ₀.
    FaAngleInit,
    /// Slope of log(mini-batch gradient variance) against log B at θ₀.
    GradVarSlope,
    /// max over the batch sizes of |iterations in one epoch − ceil(N/B)|.
    ItersPerEpochError,
    /// Finite-time Lyapunov exponent λ_T of twin full-batch runs from θ₀ (T = the steps).
    LyapunovExponent,
    /// The same over twice the steps: λ_2T. Where 2T·λ_2T ≈ T·λ_T the gap stopped shrinking
    /// and λ_T is ln(what is left)/T, not a rate.
    LyapunovExponentTwiceT,
    /// Fraction of a 101×101 grid over [−6, 6]² of (first weight, last weight) — every other
    /// parameter 0 — where the 2×2 block of the session objective's Hessian is indefinite.
    IndefiniteFraction,
    /// Cover's C(N, d+1): labellings of the N training points an affine separator in the d
    /// input features can realise (points in general position).
    CoverCount,
    /// C(N, d+1)/2^N: the chance a random labelling is linearly separable.
    CoverFraction,
    /// γ of the separator found for Novikoff's bound (0 when there is none: no finite bound).
    NovikoffMargin,
    /// Heavy-ball momentum that damps the top Hessian direction critically at the session's
    /// η: (1 − √(ηλ_max))² (λ_max at θ₀).
    CriticalMomentum,
    /// |1 − ηλ_max|: plain GD's factor per step across the valley.
    GdFactorAcross,
    /// (N − B)/(N − 1) for the largest batch size: the without-replacement factor.
    FinitePopulationFactor,
    /// max over hidden units and rows of f'(u) at θ₀.
    MaxActivationSlope,
    /// Fraction of the gap J₀ − J* left after one Newton step.
    NewtonGapAfterOne,
    /// Fraction of the gap left after the check's steps of GD with η = 1/λ_max.
    GdGapAfterSteps,
    /// Log-log slope of the GD-vs-gradient-flow error at t = steps·η against η (η/8 … η).
    FlowErrorSlope,
    /// max_k ‖θ_GD,k − θ_flow(kη)‖ over the check's steps, relative to the distance the flow
    /// travelled.
    FlowDeparture,
    /// Steps in which the heavy-ball energy ½m‖θ̇‖² + J rose.
    EnergyIncreases,
    /// Heavy-ball energy after the steps / at the start.
    EnergyRatio,
    /// μ/L: smallest over largest Hessian eigenvalue at θ₀.
    MuOverL,
    /// max_t (J_t − J*)/((1 − μ/L)^t (J₀ − J*)) of GD from θ₀: ≤ 1 when the bound holds.
    StrongConvexityRatio,
    /// ½ Var(y) of the training targets: the MSE of the best constant.
    HalfVarY,
    /// The learning rate in force.
    LearningRate,
    /// std(σ)/mean(σ) of the singular values of ∂h⁽ᴸ⁾/∂h⁽¹⁾ at θ₀ (first 64 training rows):
    /// 0 for dynamical isometry.
    JacobianSpread,
    /// Double descent (closed form, ridge = `regularization.l2`, p = 1 … 10n random features
    /// of the session's hidden layer): the p of the largest test error over n.
    DdPeakOverRows,
    /// …the largest test error over the test error at p = 10n.
    DdPeakOverWidest,
    /// The neural tangent kernel (`check.ntk`): log-log slope of the final relative kernel
    /// change ‖Θ_T − Θ₀‖_F/‖Θ₀‖_F against width.
    NtkKernelSlope,
    /// Log-log slope of the final relative weight change ‖ϑ_T − ϑ₀‖/‖ϑ₀‖ against width.
    NtkWeightSlope,
    /// The final relative kernel change at the widest width.
    NtkKernelChange,
    /// max_i |f(x_i) − f_lin(x_i)| over the training rows at the end, at the widest width.
    NtkLinGap,
    /// Lottery tickets (`check.lottery`): the dense network's test accuracy (round 0).
    LotteryDenseAccuracy,
    /// The last round's ticket (rewound survivors, retrained): test accuracy.
    LotteryTicketAccuracy,
    /// The last round's mask from a fresh random initialisation: test accuracy.
    LotteryReinitAccuracy,
    /// Ticket − reinitialised test accuracy at the last round.
    LotteryGap,
    /// Fraction of the weights pruned at the last round.
    LotterySparsity,
    // After training.
    /// Training objective after training.
    TrainLoss,
    /// Training accuracy after training (classification).
    TrainAccuracy,
    /// Test-set loss after training.
    TestLoss,
    /// Test-set accuracy after training (classification).
    TestAccuracy,
    /// Final training objective / initial one.
    LossRatio,
    /// 1 when the loss or θ stopped being finite, else 0.
    Diverged,
    /// 1 when every training point is classified correctly, else 0 (averaged over `inits`:
    /// the fraction of initialisations that solve the task).
    Solved,
    /// Σ ŷ / Σ y over the training rows in test mode (dropout off): 1 when the outputs keep
    /// the targets' scale.
    OutputOverTarget,
    /// Fraction of hidden ReLU units that output 0 on every training row.
    DeadFraction,
    /// Norm of the gradient on the dead units' incoming weights and biases.
    DeadUnitGrad,
    /// Perceptron mistakes in all steps.
    Mistakes,
    /// Novikoff's bound (R/γ)² for the training data (perceptron rule).
    NovikoffBound,
    /// Mistakes during the last epoch.
    LastEpochMistakes,
    /// max |ŷ − y| over the training rows.
    SupError,
    /// Largest difference between two units of one hidden layer (incoming weights, bias,
    /// outgoing weights); 0 means the units are identical to the last bit.
    UnitSpread,
    /// max |u − (A x + c)| / max(1, max|u|), A and c the product of the weight matrices and
    /// the composed bias, u the output pre-activation: 0 up to rounding exactly when the
    /// hidden layers are linear (identity activations).
    LinearMapError,
    /// Fraction of weights with |w| < 1e-3.
    NearZeroFraction,
    /// Number of weights exactly 0.
    ExactZeroWeights,
    /// Test-mode / training-mode size of what the last dropout layer passes to the output
    /// (Σ over rows of W·a, training mode averaged over 50 dropout draws).
    DropoutOutputScale,
    /// Angle (degrees) between the output layer's feedback matrix B and its W after training.
    FaAngle,
    /// Σ_t |v_max·(θ_t − θ_{t−1})|: path length across the valley (v_max: top eigenvector of
    /// the Hessian at θ₀).
    AcrossValleyPath,
    /// |v_min·(θ_T − θ₀)|: distance travelled along the valley floor.
    AlongValleyProgress,
    /// λ_max of the dense Hessian after training.
    LambdaMax,
    /// Number of negative Hessian eigenvalues after training.
    NegativeEigenvalues,
    /// κ = max|λ|/min|λ| after training.
    ConditionNumber,
    /// Exact number of linear regions over the data box (piecewise-linear nets only).
    LinearRegions,
    /// Largest miss of f(centre) = mean of f at a diagonal's ends over the grid cells of one
    /// activation pattern, relative: 0 up to rounding exactly when the net is affine on them.
    RegionAffineError,
    /// 1 when the target's frequency peaks converged (relative error below 0.1 for good) in
    /// order, lowest first, else 0; refuses a target with fewer than two peaks.
    BandsInOrder,
    /// Step at which the lowest peak converged (∞: never).
    LowestBandSteps,
    /// Step at which the highest peak converged (∞: never).
    HighestBandSteps,
    /// One more step's ΔW against −η (1/m) Σ δ aᵀ over its batch: largest miss relative to
    /// the largest |ΔW| (0 up to rounding for plain SGD).
    UpdateOuterError,
    /// Largest numerical rank of a layer's ΔW in one more step (1 for SGD on one example).
    UpdateRank,
    // The edge of stability, recorded along the run (analysis::stability): the sharpness the
    // optimiser's threshold applies to, every ~1/60 of the steps.
    /// 1 when it reached 0.95 × its threshold (2/η for GD, …), else 0.
    EdgeReached,
    /// Mean sharpness / threshold from the first reach on (NaN when never reached).
    EdgeMeanRatio,
    /// Mean |sharpness / threshold − 1| from the first reach on.
    EdgeDeviation,
    /// Largest sharpness / threshold from the first reach on.
    EdgeMaxRatio,
    /// Sharpness / threshold at θ₀.
    EdgeStartRatio,
    /// Step of the first reach (NaN when never reached).
    EdgeFirstStep,
    // Neural collapse of the last hidden layer (analysis::collapse), after training.
    /// NC1 = tr(Σ_W Σ_B⁺)/K.
    Nc1,
    /// NC1 at θ₀ / NC1 after training.
    Nc1Drop,
    /// Mean cosine between centred class means.
    CollapseCosine,
    /// |mean cosine − (−1/(K−1))|.
    CollapseCosineGap,
    /// Standard deviation of the cosines between centred class means: 0 for a simplex, 0.47
    /// for four means on a square (cosines 0 and −1).
    CollapseCosineStd,
    /// NC1 at the first 100 % training accuracy (checked every `FIT_EVERY` (10) steps) / NC1
    /// after training: how far the features collapse in the terminal phase. NaN when the
    /// training set is never fitted.
    Nc1TerminalDrop,
    /// ‖W/‖W‖ − M/‖M‖‖_F².
    Nc3,
    /// Share of rows whose nearest class mean is the predicted class.
    Nc4Agreement,
    /// ‖θ_T − A^+ y‖ of the readout (frozen hidden layers): distance to the minimum-norm
    /// (pseudo-inverse) solution.
    MinNormDistance,
    /// ‖P_null θ₀‖ of the readout: the start's component in the null space of A = [Φ 1].
    NullSpaceStart,
    /// ‖θ_T − (A^+ y + P_null θ₀)‖: distance to the limit gradient descent is predicted to reach.
    MinNormLimitError,
}

impl Metric {
    /// The metric's name as written in lesson files and `{variant.metric}` placeholders.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// What the number is, for a student: (English, 中文).
    pub fn label(self) -> (&'static str, &'static str) {
        use Metric::*;
        match self {
            InitLoss => ("loss at the start", "起点的损失"),
            GradRatioFirstLast => (
                "first layer's gradient / last layer's, at the start",
                "起点处第一层梯度 / 最后一层梯度",
            ),
            SignalMaxRelError => (
                "worst layer's error of σ_w²χ against the measured ratio",
                "σ_w²χ 与实测比值的最大层误差",
            ),
            SignalMeanMeasured => (
                "mean measured backward ratio per layer",
                "每层反向比值的实测均值",
            ),
            SignalMeanPredicted => (
                "mean predicted backward ratio σ_w²χ",
                "预测反向比值 σ_w²χ 的均值",
            ),
            ActStdLastOverFirst => (
                "activation std, last hidden layer / first, at the start",
                "起点处激活标准差：最后隐藏层 / 第一层",
            ),
            OutputGrad => (
                "output layer's gradient norm at the start",
                "起点处输出层梯度范数",
            ),
            InitLambdaMax => (
                "λ_max of the Hessian at the start",
                "起点处 Hessian 的 λ_max",
            ),
            InitNegativeEigenvalues => (
                "negative Hessian eigenvalues at the start",
                "起点处 Hessian 负特征值个数",
            ),
            FaAngleInit => (
                "angle between B and W at the start (degrees)",
                "起点处 B 与 W 的夹角（度）",
            ),
            GradVarSlope => (
                "log-log slope of gradient variance against batch size",
                "梯度方差对批大小的双对数斜率",
            ),
            ItersPerEpochError => (
                "largest miss of iterations per epoch against ceil(N/B)",
                "每纪元迭代数与 ceil(N/B) 的最大偏差",
            ),
            LyapunovExponent => ("Lyapunov exponent λ_T", "李雅普诺夫指数 λ_T"),
            LyapunovExponentTwiceT => (
                "Lyapunov exponent over twice the steps",
                "两倍步数的李雅普诺夫指数",
            ),
            IndefiniteFraction => (
                "share of the grid where the Hessian is indefinite",
                "Hessian 不定的网格比例",
            ),
            CoverCount => (
                "Cover's count C(N, d+1) of separable labellings",
                "Cover 计数 C(N, d+1)（可分标注数）",
            ),
            CoverFraction => (
                "share of labellings a hyperplane can make",
                "超平面能实现的标注比例",
            ),
            NovikoffMargin => ("margin γ of the separator found", "所找分隔面的间隔 γ"),
            CriticalMomentum => (
                "critically damping momentum (1 − √(ηλ_max))²",
                "临界阻尼动量 (1 − √(ηλ_max))²",
            ),
            GdFactorAcross => (
                "GD's factor per step across the valley |1 − ηλ_max|",
                "梯度下降横跨山谷的每步因子 |1 − ηλ_max|",
            ),
            FinitePopulationFactor => (
                "without-replacement factor (N − B)/(N − 1)",
                "不放回因子 (N − B)/(N − 1)",
            ),
            MaxActivationSlope => (
                "largest activation slope f'(u) at the start",
                "起点处最大激活斜率 f'(u)",
            ),
            NewtonGapAfterOne => (
                "share of the loss gap left after one Newton step",
                "一次牛顿步后剩余的损失间隙比例",
            ),
            GdGapAfterSteps => (
                "share of the loss gap left after GD",
                "梯度下降后剩余的损失间隙比例",
            ),
            FlowErrorSlope => (
                "log-log slope of GD's error from the flow against η",
                "梯度下降与梯度流误差对 η 的双对数斜率",
            ),
            FlowDeparture => (
                "GD's largest distance from the flow, relative",
                "梯度下降与梯度流的最大相对偏差",
            ),
            EnergyIncreases => ("steps where the energy rose", "能量上升的步数"),
            EnergyRatio => ("energy at the end / at the start", "能量：结束 / 开始"),
            MuOverL => (
                "μ/L, smallest over largest curvature",
                "μ/L：最小与最大曲率之比",
            ),
            StrongConvexityRatio => (
                "largest loss gap / (1 − μ/L)^t bound",
                "损失间隙与 (1 − μ/L)^t 界之比的最大值",
            ),
            HalfVarY => (
                "½Var(y), the best constant's loss",
                "½Var(y)，最佳常数的损失",
            ),
            LearningRate => ("learning rate", "学习率"),
            TrainLoss => ("training loss", "训练损失"),
            TrainAccuracy => ("training accuracy", "训练准确率"),
            TestLoss => ("test loss", "测试损失"),
            TestAccuracy => ("test accuracy", "测试准确率"),
            LossRatio => ("final loss / initial loss", "最终损失 / 初始损失"),
            Diverged => ("diverged (1 = yes)", "是否发散（1 = 是）"),
            Solved => (
                "share of runs that classify every point",
                "分对所有点的运行比例",
            ),
            OutputOverTarget => (
                "test-mode outputs / targets (Σŷ/Σy)",
                "测试模式输出 / 目标（Σŷ/Σy）",
            ),
            DeadFraction => ("share of dead ReLU units", "死亡 ReLU 单元比例"),
            DeadUnitGrad => ("gradient on the dead units", "死亡单元上的梯度"),
            Mistakes => ("perceptron mistakes in all", "感知机错误总数"),
            NovikoffBound => ("Novikoff's bound (R/γ)²", "Novikoff 界 (R/γ)²"),
            LastEpochMistakes => ("mistakes in the last pass", "最后一遍的错误数"),
            SupError => ("largest error over the data", "数据上的最大误差"),
            UnitSpread => (
                "largest difference between two units of a layer",
                "同层两个单元的最大差异",
            ),
            LinearMapError => (
                "error of the product of weight matrices",
                "权重矩阵乘积的误差",
            ),
            NearZeroFraction => ("share of weights with |w| < 1e-3", "|w| < 1e-3 的权重比例"),
            ExactZeroWeights => ("weights exactly 0", "恰好为 0 的权重数"),
            DropoutOutputScale => (
                "test-mode / training-mode contribution of the dropout layer",
                "dropout 层贡献：测试模式 / 训练模式",
            ),
            FaAngle => (
                "angle between B and W after training (degrees)",
                "训练后 B 与 W 的夹角（度）",
            ),
            AcrossValleyPath => ("path length across the valley", "横跨山谷的路径长度"),
            AlongValleyProgress => ("progress along the valley floor", "沿谷底的进展"),
            LambdaMax => (
                "λ_max of the Hessian after training",
                "训练后 Hessian 的 λ_max",
            ),
            NegativeEigenvalues => (
                "negative Hessian eigenvalues after training",
                "训练后 Hessian 负特征值个数",
            ),
            ConditionNumber => ("condition number κ of the Hessian", "Hessian 条件数 κ"),
            JacobianSpread => (
                "spread std(σ)/mean(σ) of the Jacobian's singular values at the start",
                "起点处雅可比奇异值的离散度 std(σ)/mean(σ)",
            ),
            LinearRegions => ("number of linear regions", "线性区域数"),
            RegionAffineError => (
                "largest departure from affine inside a region",
                "区域内偏离仿射的最大值",
            ),
            BandsInOrder => (
                "frequencies learned in order, lowest first (1 = yes)",
                "频率按从低到高的顺序学会（1 = 是）",
            ),
            LowestBandSteps => (
                "steps until the lowest frequency is learned",
                "学会最低频率所需步数",
            ),
            HighestBandSteps => (
                "steps until the highest frequency is learned",
                "学会最高频率所需步数",
            ),
            UpdateOuterError => (
                "largest miss of ΔW against −η δ a^T, relative",
                "ΔW 与 −η δ a^T 的最大相对偏差",
            ),
            UpdateRank => (
                "largest rank of a layer's update ΔW",
                "各层更新 ΔW 的最大秩",
            ),
            EdgeReached => (
                "sharpness reached its stability threshold (1 = yes)",
                "锐度是否达到稳定性阈值（1 = 是）",
            ),
            EdgeMeanRatio => (
                "mean sharpness / threshold after reaching it",
                "达到阈值后锐度 / 阈值的均值",
            ),
            EdgeDeviation => (
                "mean |sharpness / threshold − 1| after reaching it",
                "达到阈值后 |锐度 / 阈值 − 1| 的均值",
            ),
            EdgeMaxRatio => (
                "largest sharpness / threshold after reaching it",
                "达到阈值后锐度 / 阈值的最大值",
            ),
            EdgeStartRatio => ("sharpness / threshold at the start", "起点处锐度 / 阈值"),
            EdgeFirstStep => (
                "step where the sharpness first reached the threshold",
                "锐度首次达到阈值的步数",
            ),
            Nc1 => (
                "NC1 = tr(Σ_W Σ_B⁺)/K after training",
                "训练后 NC1 = tr(Σ_W Σ_B⁺)/K",
            ),
            Nc1Drop => ("NC1 at the start / after training", "NC1：起点 / 训练后"),
            CollapseCosine => (
                "mean cosine between centred class means",
                "中心化类均值之间的平均余弦",
            ),
            CollapseCosineGap => ("|mean cosine − (−1/(K−1))|", "|平均余弦 − (−1/(K−1))|"),
            CollapseCosineStd => (
                "spread (std) of the cosines between centred class means",
                "中心化类均值之间余弦的离散度（标准差）",
            ),
            Nc1TerminalDrop => (
                "NC1 at the first 100 % training accuracy / after training",
                "NC1：首次达到 100 % 训练准确率时 / 训练后",
            ),
            Nc3 => (
                "NC3: classifier vs class means, ‖W/‖W‖ − M/‖M‖‖²",
                "NC3：分类器与类均值之差 ‖W/‖W‖ − M/‖M‖‖²",
            ),
            Nc4Agreement => (
                "share where the nearest class mean agrees with the network",
                "最近类均值与网络一致的比例",
            ),
            DdPeakOverRows => (
                "features at the test-error peak / training points",
                "测试误差峰值处的特征数 / 训练点数",
            ),
            DdPeakOverWidest => (
                "peak test error / test error at 10n features",
                "峰值测试误差 / 10n 个特征时的测试误差",
            ),
            LotteryDenseAccuracy => ("dense network's test accuracy", "稠密网络的测试准确率"),
            LotteryTicketAccuracy => (
                "winning ticket's test accuracy (pruned, rewound, retrained)",
                "中奖彩票的测试准确率（剪枝、回卷、再训练）",
            ),
            LotteryReinitAccuracy => (
                "same mask from a fresh initialisation: test accuracy",
                "同一掩码、重新随机初始化：测试准确率",
            ),
            LotteryGap => (
                "ticket − re-initialised test accuracy",
                "彩票与重新初始化的测试准确率之差",
            ),
            LotterySparsity => ("fraction of weights pruned", "被剪枝的权重比例"),
            NtkKernelSlope => (
                "slope of the kernel change against width (log-log)",
                "核变化随宽度的斜率（对数-对数）",
            ),
            NtkWeightSlope => (
                "slope of the weight change against width (log-log)",
                "权重变化随宽度的斜率（对数-对数）",
            ),
            NtkKernelChange => (
                "relative kernel change at the widest width",
                "最宽网络的相对核变化",
            ),
            NtkLinGap => (
                "largest |f − f_lin| on the training inputs at the widest width",
                "最宽网络在训练输入上的最大 |f − f_lin|",
            ),
            MinNormDistance => (
                "distance of the trained readout to the minimum-norm solution",
                "训练后读出层到最小范数解的距离",
            ),
            NullSpaceStart => (
                "start's component in the null space",
                "起点在零空间中的分量",
            ),
            MinNormLimitError => (
                "distance of the trained readout to A^+ y + P_null θ₀",
                "训练后读出层到 A^+ y + P_null θ₀ 的距离",
            ),
        }
    }

    /// Measured before any training step.
    pub fn at_init(self) -> bool {
        use Metric::*;
        matches!(
            self,
            InitLoss
                | GradRatioFirstLast
                | SignalMaxRelError
                | SignalMeanMeasured
                | SignalMeanPredicted
                | ActStdLastOverFirst
                | OutputGrad
                | InitLambdaMax
                | InitNegativeEigenvalues
                | FaAngleInit
                | GradVarSlope
                | ItersPerEpochError
                | LyapunovExponent
                | LyapunovExponentTwiceT
                | IndefiniteFraction
                | CoverCount
                | CoverFraction
                | NovikoffMargin
                | CriticalMomentum
                | GdFactorAcross
                | FinitePopulationFactor
                | MaxActivationSlope
                | NewtonGapAfterOne
                | GdGapAfterSteps
                | FlowErrorSlope
                | FlowDeparture
                | EnergyIncreases
                | EnergyRatio
                | MuOverL
                | StrongConvexityRatio
                | HalfVarY
                | LearningRate
                | JacobianSpread
                | DdPeakOverRows
                | DdPeakOverWidest
                | LotteryDenseAccuracy
                | LotteryTicketAccuracy
                | LotteryReinitAccuracy
                | LotteryGap
                | LotterySparsity
                | NtkKernelSlope
                | NtkWeightSlope
                | NtkKernelChange
                | NtkLinGap
        )
    }

    /// Needs the residual's spectrum recorded during the run.
    pub fn needs_bands(self) -> bool {
        matches!(
            self,
            Metric::BandsInOrder | Metric::LowestBandSteps | Metric::HighestBandSteps
        )
    }

    /// The metric samples mini-batch gradients at the check's `batch_sizes`.
    pub fn needs_batch_sizes(self) -> bool {
        matches!(self, Metric::GradVarSlope | Metric::ItersPerEpochError)
    }

    /// Recorded along the run: the sharpness against the optimiser's threshold.
    pub fn needs_edge(self) -> bool {
        use Metric::*;
        matches!(
            self,
            EdgeReached
                | EdgeMeanRatio
                | EdgeDeviation
                | EdgeMaxRatio
                | EdgeStartRatio
                | EdgeFirstStep
        )
    }

    /// Needs NC1 at θ₀.
    pub fn needs_collapse_init(self) -> bool {
        self == Metric::Nc1Drop
    }

    /// Needs NC1 where the training set is first fitted.
    pub fn needs_first_fit(self) -> bool {
        self == Metric::Nc1TerminalDrop
    }

    /// Needs the Hessian eigenvectors at θ₀ and the per-step trajectory.
    pub fn needs_valley(self) -> bool {
        matches!(self, Metric::AcrossValleyPath | Metric::AlongValleyProgress)
    }
}

/// Measure a metric at θ₀ (before training). `steps` is the run length (Lyapunov).
pub fn at_init(
    metric: Metric,
    tr: &mut Trainer,
    session: &Session,
    check: &Check,
    steps: u64,
) -> Result<f64> {
    use Metric::*;
    Ok(match metric {
        InitLoss => tr.objective_and_gradient().0,
        GradRatioFirstLast => {
            let (_, g) = tr.objective_and_gradient();
            let layers = &tr.net.layers;
            let n = |i: usize| norm(&g[layers[i].w..layers[i].w + layers[i].n_weights()]);
            n(0) / n(layers.len() - 1)
        }
        SignalMaxRelError | SignalMeanMeasured | SignalMeanPredicted => {
            let seeds: Vec<u64> = (0..4).map(|k| session.seed + k).collect();
            let r = signal_propagation(
                &tr.net,
                session.network.init,
                session.network.init_scale,
                tr.training_rows(),
                &seeds,
            )
            .map_err(Error::new)?;
            // The mean-field argument needs wide layers: a layer fed by the two raw inputs
            // has W and δ strongly correlated, so only layers with fan-in ≥ 16 count.
            let wide: Vec<_> = r.layers.iter().filter(|l| l.fan_in >= 16).collect();
            if wide.is_empty() {
                return Err(Error::new(
                    "the signal metrics need hidden layers with fan-in of at least 16",
                ));
            }
            let n = wide.len() as f64;
            match metric {
                SignalMaxRelError => wide
                    .iter()
                    .map(|l| (l.measured / l.predicted - 1.0).abs())
                    .fold(0.0, f64::max),
                SignalMeanMeasured => wide.iter().map(|l| l.measured).sum::<f64>() / n,
                _ => wide.iter().map(|l| l.predicted).sum::<f64>() / n,
            }
        }
        ActStdLastOverFirst => {
            let hidden = tr.net.layers.len() - 1;
            if hidden < 2 {
                return Err(Error::new(
                    "act_std_last_over_first needs at least two hidden layers",
                ));
            }
            let mut ws = Workspace::default();
            let rows = tr.train.rows();
            tr.net
                .forward(&tr.theta, &tr.train.x, rows, &mut ws, BnMode::Batch, None);
            let std = |i: usize| {
                let f = &ws.layers[i].f[..rows * tr.net.layers[i].units];
                let n = f.len() as f64;
                let mean = f.iter().sum::<f64>() / n;
                (f.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
            };
            std(hidden - 1) / std(0)
        }
        OutputGrad => {
            let (_, g) = tr.objective_and_gradient();
            let out = tr.net.output();
            let w = norm(&g[out.w..out.w + out.n_weights()]);
            let b = norm(&g[out.b..out.b + out.units]);
            w.hypot(b)
        }
        InitLambdaMax | InitNegativeEigenvalues => {
            let (lmax, neg, _) = spectrum(tr)?;
            if metric == InitLambdaMax { lmax } else { neg }
        }
        FaAngleInit => feedback_angle(tr)?,
        GradVarSlope => grad_var_slope(tr, check)?,
        ItersPerEpochError => iters_per_epoch_error(tr, session, check)?,
        LyapunovExponent | LyapunovExponentTwiceT => {
            let horizon = if metric == LyapunovExponent {
                steps.max(1)
            } else {
                2 * steps.max(1)
            };
            let spec = tr.optimizer.spec().clone();
            let Trainer {
                net, train, theta, ..
            } = &*tr;
            let rows = Rows {
                x: &train.x,
                y: &train.y,
                classes: train.classes,
            };
            let r = &tr.regularization;
            let mut obj = NetObjective::new(net, rows, r.l1, r.l2);
            let rep = lyapunov(
                &mut obj,
                theta,
                &spec,
                horizon as usize,
                1e-7,
                &Direction::Random(session.seed),
            )
            .map_err(Error::new)?;
            rep.exponent
        }
        IndefiniteFraction => measures::indefinite_fraction(tr)?,
        CoverCount | CoverFraction => {
            let n = tr.train.rows() as u64;
            let d = tr.net.layers[0].fan_in as u64 + 1;
            if metric == CoverCount {
                measures::cover_count(n, d)
            } else {
                measures::cover_fraction(n, d)
            }
        }
        NovikoffMargin => tr.novikoff.map_or(0.0, |b| b.margin),
        CriticalMomentum | GdFactorAcross => {
            let (lmax, _, _) = spectrum(tr)?;
            let x = tr.optimizer.spec().lr * lmax;
            if metric == CriticalMomentum {
                (1.0 - x.sqrt()).powi(2)
            } else {
                (1.0 - x).abs()
            }
        }
        FinitePopulationFactor => {
            let n = tr.train.rows() as f64;
            let b = check.batch_sizes.iter().copied().max().unwrap_or(1) as f64;
            (n - b) / (n - 1.0)
        }
        MaxActivationSlope => measures::max_activation_slope(tr),
        NewtonGapAfterOne | GdGapAfterSteps => {
            let (one, gd) = measures::newton_vs_gd(tr, steps)?;
            if metric == NewtonGapAfterOne { one } else { gd }
        }
        FlowErrorSlope | FlowDeparture => {
            let (slope, dep) = measures::flow_departure(tr, steps)?;
            if metric == FlowErrorSlope { slope } else { dep }
        }
        EnergyIncreases | EnergyRatio => {
            let (inc, ratio) = measures::momentum_energy_of(tr, steps)?;
            if metric == EnergyIncreases {
                inc
            } else {
                ratio
            }
        }
        MuOverL | StrongConvexityRatio => {
            let (ratio_mu_l, worst) = measures::strong_convexity(tr, steps)?;
            if metric == MuOverL { ratio_mu_l } else { worst }
        }
        HalfVarY => {
            let y = &tr.train.y;
            let n = y.len() as f64;
            let mean = y.iter().sum::<f64>() / n;
            0.5 * y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n
        }
        LearningRate => tr.optimizer.spec().lr,
        JacobianSpread => measures::jacobian_spread(tr)?,
        DdPeakOverRows | DdPeakOverWidest => {
            use crate::analysis::double_descent::{RandomFeatures, sweep};
            let n = tr.train.rows();
            let f =
                RandomFeatures::new(&session.network, session.seed, 10 * n, &tr.train, &tr.test)
                    .map_err(Error::new)?;
            let s = sweep(
                f.train_rows(&tr.train),
                f.test_rows(&tr.test),
                f.width,
                session.regularization.l2,
                &|| false,
            )
            .map_err(Error::new)?;
            if metric == DdPeakOverRows {
                s.peak_features as f64 / n as f64
            } else {
                s.peak_error / s.wide_error
            }
        }
        LotteryDenseAccuracy
        | LotteryTicketAccuracy
        | LotteryReinitAccuracy
        | LotteryGap
        | LotterySparsity => {
            let r = lottery_report(tr, session, check, steps)?;
            let (first, last) = (&r.rounds[0], &r.rounds[r.rounds.len() - 1]);
            match metric {
                LotteryDenseAccuracy => first.ticket_test_accuracy,
                LotteryTicketAccuracy => last.ticket_test_accuracy,
                LotteryReinitAccuracy => last.reinit_test_accuracy,
                LotteryGap => last.ticket_test_accuracy - last.reinit_test_accuracy,
                _ => last.sparsity,
            }
        }
        NtkKernelSlope | NtkWeightSlope | NtkKernelChange | NtkLinGap => {
            let r = ntk_report(tr, session, check, steps)?;
            let last = &r.runs[r.runs.len() - 1];
            let widths: Vec<f64> = r.widths.iter().map(|&w| w as f64).collect();
            let finals = |f: fn(&crate::analysis::ntk::Run) -> &Vec<f64>| -> Vec<f64> {
                r.runs
                    .iter()
                    .map(|run| f(run).last().copied().unwrap_or(f64::NAN))
                    .collect()
            };
            match metric {
                NtkKernelSlope => log_log_slope(&widths, &finals(|r| &r.kernel_change)),
                NtkWeightSlope => log_log_slope(&widths, &finals(|r| &r.weight_change)),
                NtkKernelChange => last.kernel_change.last().copied().unwrap_or(f64::NAN),
                _ => last.lin_gap_train,
            }
        }
        _ => {
            return Err(Error::new(format!(
                "{} is not an initial metric",
                metric.name()
            )));
        }
    })
}

/// The lottery experiment of `check.lottery` on the session (its five metrics share one run:
/// the last few reports are kept, keyed by everything the run depends on).
fn lottery_report(
    tr: &Trainer,
    session: &Session,
    check: &Check,
    steps: u64,
) -> Result<std::sync::Arc<crate::train::prune::LotteryReport>> {
    use crate::train::prune::{LotteryOptions, LotteryReport, lottery};
    use std::sync::{Arc, Mutex};
    type Cache = Mutex<Vec<(String, Arc<LotteryReport>)>>;
    static CACHE: Cache = Mutex::new(Vec::new());
    let lc = check
        .lottery
        .as_ref()
        .ok_or_else(|| Error::new("the lottery metrics need lesson.check.lottery"))?;
    let config = session.trainer_config();
    let key = format!(
        "{:?}|{:?}|{}|{}|{:?}",
        config,
        lc,
        steps,
        tr.train.rows(),
        fingerprint(&[&tr.train.x, &tr.train.y, &tr.test.x, &tr.test.y])
    );
    if let Some((_, r)) = CACHE
        .lock()
        .ok()
        .and_then(|c| c.iter().find(|(k, _)| *k == key).cloned())
    {
        return Ok(r);
    }
    let opts = LotteryOptions {
        rounds: lc.rounds,
        fraction: lc.prune,
        scope: lc.scope,
        rewind: lc.rewind,
        steps,
    };
    let r = Arc::new(lottery(&config, &tr.train, &tr.test, opts, &|| false)?);
    if let Ok(mut c) = CACHE.lock() {
        if c.len() >= 8 {
            c.remove(0);
        }
        c.push((key, r.clone()));
    }
    Ok(r)
}

/// The NTK experiment of `check.ntk`: the session's network at each width, trained `steps`
/// full-batch GD steps from the session's seed (as `nnlab ntk` runs it).
pub struct NtkReport {
    /// The widths, as asked.
    pub widths: Vec<usize>,
    /// One run per width.
    pub runs: Vec<crate::analysis::ntk::Run>,
}

/// The NTK experiment of `check.ntk` on the session (its four metrics share one run: the last
/// few reports are kept, keyed by everything the run depends on).
fn ntk_report(
    tr: &Trainer,
    session: &Session,
    check: &Check,
    steps: u64,
) -> Result<std::sync::Arc<NtkReport>> {
    use crate::analysis::ntk::{Setup, network_of_width, run};
    use std::sync::{Arc, Mutex};
    type Cache = Mutex<Vec<(String, Arc<NtkReport>)>>;
    static CACHE: Cache = Mutex::new(Vec::new());
    let nc = check
        .ntk
        .as_ref()
        .ok_or_else(|| Error::new("the ntk metrics need lesson.check.ntk"))?;
    if tr.train.classes != 0 {
        return Err(Error::new(
            "the NTK experiment is a regression (this data has class labels)",
        ));
    }
    let key = format!(
        "{:?}|{:?}|{}|{}|{}",
        session.network,
        nc,
        steps,
        session.seed,
        fingerprint(&[&tr.train.x, &tr.train.y])
    );
    if let Some((_, r)) = CACHE
        .lock()
        .ok()
        .and_then(|c| c.iter().find(|(k, _)| *k == key).cloned())
    {
        return Ok(r);
    }
    let mut runs = Vec::new();
    for &w in &nc.widths {
        let net = network_of_width(&session.network, w).map_err(Error::new)?;
        let setup = Setup {
            param: nc.param,
            alpha: nc.alpha,
            steps,
            lr_factor: nc.lr_factor,
            records: 20,
            seed: session.seed,
        };
        runs.push(
            run(&net, &tr.train.x, &tr.train.y, &setup)
                .map_err(|e| Error::new(format!("width {w}: {e}")))?,
        );
    }
    let r = Arc::new(NtkReport {
        widths: nc.widths.clone(),
        runs,
    });
    if let Ok(mut c) = CACHE.lock() {
        if c.len() >= 8 {
            c.remove(0);
        }
        c.push((key, r.clone()));
    }
    Ok(r)
}

/// FNV-1a over the bits of the data: the cache key's part for the rows.
fn fingerprint(parts: &[&[f64]]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for p in parts {
        for v in p.iter() {
            h = (h ^ v.to_bits()).wrapping_mul(0x0100_0000_01b3);
        }
        h = (h ^ p.len() as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// What a training run recorded for the after-training metrics.
#[derive(Default)]
pub struct RunRecord {
    pub init_objective: f64,
    pub diverged: bool,
    /// Mistakes after each step.
    pub mistakes: Vec<u64>,
    pub iterations_per_epoch: usize,
    pub across_path: f64,
    pub along: f64,
    /// The residual's relative error per target peak against step (band metrics only).
    pub bands: Option<BandHistory>,
    /// The sharpness against the optimiser's threshold along the run (edge metrics).
    pub edge: EdgeSeries,
    /// NC1 at θ₀ (Nc1Drop).
    pub nc1_init: Option<f64>,
    /// NC1 at the first check with 100 % training accuracy (Nc1TerminalDrop).
    pub nc1_first_fit: Option<f64>,
    /// θ before the first step.
    pub initial_theta: Vec<f64>,
}

/// Steps between two checks for the first 100 % training accuracy (as `nnlab collapse
/// --every 10` records it).
pub const FIT_EVERY: u64 = 10;

/// Neural collapse of the trainer's network over its training rows.
pub fn collapse_of(tr: &Trainer) -> Result<Collapse> {
    let f = collapse::features(&tr.net, &tr.theta, tr.training_rows()).map_err(Error::new)?;
    collapse::collapse(&f).map_err(Error::new)
}

/// Measure a metric after training.
pub fn after(metric: Metric, tr: &mut Trainer, rec: &RunRecord) -> Result<f64> {
    use Metric::*;
    let finite = tr.theta.iter().all(|v| v.is_finite());
    Ok(match metric {
        TrainLoss | TrainAccuracy | TestLoss | TestAccuracy | LossRatio => {
            if !finite {
                return Ok(f64::INFINITY);
            }
            let e = tr.evaluate();
            match metric {
                TrainLoss => e.train_loss,
                TrainAccuracy => e.train_accuracy,
                TestLoss => e.test_loss,
                TestAccuracy => e.test_accuracy,
                _ => {
                    let j = tr.objective_and_gradient().0;
                    if j.is_finite() {
                        j / rec.init_objective
                    } else {
                        f64::INFINITY
                    }
                }
            }
        }
        Diverged => f64::from(u8::from(rec.diverged || !finite)),
        Solved => {
            if !finite {
                return Ok(0.0);
            }
            f64::from(u8::from(tr.evaluate().train_accuracy == 1.0))
        }
        OutputOverTarget => {
            let rows = tr.train.rows();
            let x = tr.train.x.clone();
            let yhat = tr.predict(&x, rows);
            if tr.net.output_units() != 1 {
                return Err(Error::new("output_over_target needs one output unit"));
            }
            yhat.iter().sum::<f64>() / tr.train.y.iter().sum::<f64>()
        }
        DeadFraction | DeadUnitGrad => {
            let (frac, grad) = measures::dead_units(tr)?;
            if metric == DeadFraction { frac } else { grad }
        }
        Mistakes => rec.mistakes.last().copied().unwrap_or(0) as f64,
        NovikoffBound => tr.novikoff.map_or(f64::INFINITY, |b| b.bound),
        LastEpochMistakes => {
            let m = &rec.mistakes;
            let k = rec.iterations_per_epoch.max(1);
            if m.len() < k {
                return Err(Error::new(
                    "last_epoch_mistakes needs at least one full epoch of steps",
                ));
            }
            let before = if m.len() > k { m[m.len() - k - 1] } else { 0 };
            (m[m.len() - 1] - before) as f64
        }
        SupError => {
            let rows = tr.train.rows();
            let x = tr.train.x.clone();
            let yhat = tr.predict(&x, rows);
            let k = tr.net.output_units();
            if k != 1 {
                return Err(Error::new("sup_error needs one output unit"));
            }
            yhat.iter()
                .zip(&tr.train.y)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        }
        UnitSpread => unit_spread(tr),
        MinNormDistance | NullSpaceStart | MinNormLimitError => {
            let r = crate::analysis::min_norm::min_norm_report(
                &tr.net,
                &rec.initial_theta,
                &tr.theta,
                &tr.train,
            )
            .map_err(Error::new)?;
            match metric {
                MinNormDistance => r.distance,
                NullSpaceStart => r.start_null_norm,
                _ => r.limit_error,
            }
        }
        LinearMapError => linear_map_error(tr)?,
        NearZeroFraction | ExactZeroWeights => {
            let (mut near, mut exact, mut total) = (0usize, 0usize, 0usize);
            for l in &tr.net.layers {
                for &w in &tr.theta[l.w..l.w + l.n_weights()] {
                    total += 1;
                    near += usize::from(w.abs() < 1e-3);
                    exact += usize::from(w == 0.0);
                }
            }
            if metric == NearZeroFraction {
                near as f64 / total as f64
            } else {
                exact as f64
            }
        }
        DropoutOutputScale => dropout_output_scale(tr)?,
        FaAngle => feedback_angle(tr)?,
        EdgeReached | EdgeMeanRatio | EdgeDeviation | EdgeMaxRatio | EdgeStartRatio
        | EdgeFirstStep => {
            let s = rec.edge.summary();
            match metric {
                EdgeReached => f64::from(u8::from(s.first_reached.is_some())),
                EdgeMeanRatio => s.mean_ratio,
                EdgeDeviation => s.mean_deviation,
                EdgeMaxRatio => s.max_ratio,
                EdgeStartRatio => s.start_ratio,
                _ => s.first_reached.map_or(f64::NAN, |v| v as f64),
            }
        }
        Nc1 | Nc1Drop | Nc1TerminalDrop | CollapseCosine | CollapseCosineGap
        | CollapseCosineStd | Nc3 | Nc4Agreement => {
            if !finite {
                return Ok(f64::NAN);
            }
            let c = collapse_of(tr)?;
            match metric {
                Nc1 => c.nc1,
                Nc1Drop => rec.nc1_init.unwrap_or(f64::NAN) / c.nc1,
                // Never fitted: nothing was measured (an error, not a failed expectation, so a
                // control cannot "fail" by not reaching the precondition).
                Nc1TerminalDrop => match rec.nc1_first_fit {
                    Some(first) => first / c.nc1,
                    None => {
                        return Err(Error::new(
                            "nc1_terminal_drop: the training set was never fitted (100 % accuracy)",
                        ));
                    }
                },
                CollapseCosineStd => c.cosine_std,
                CollapseCosine => c.cosine_mean,
                CollapseCosineGap => (c.cosine_mean - c.cosine_target).abs(),
                Nc3 => c.nc3,
                _ => c.nc4_agreement,
            }
        }
        AcrossValleyPath => rec.across_path,
        AlongValleyProgress => rec.along,
        LambdaMax | NegativeEigenvalues | ConditionNumber => {
            if !finite {
                return Ok(f64::NAN);
            }
            let (lmax, neg, kappa) = spectrum(tr)?;
            match metric {
                LambdaMax => lmax,
                NegativeEigenvalues => neg,
                _ => kappa,
            }
        }
        LinearRegions => measures::linear_regions(tr)?,
        UpdateOuterError | UpdateRank => {
            if !finite {
                return Ok(f64::NAN);
            }
            let (miss, rank) = measures::next_update(tr)?;
            if metric == UpdateOuterError {
                miss
            } else {
                rank
            }
        }
        RegionAffineError => {
            if !finite {
                return Ok(f64::NAN);
            }
            measures::region_affine_error(tr)?
        }
        BandsInOrder | LowestBandSteps | HighestBandSteps => {
            let h = rec
                .bands
                .as_ref()
                .ok_or_else(|| Error::new("the bands were not recorded during the run"))?;
            let at = h.convergence_steps(measures::BAND_THRESHOLD);
            let steps =
                |s: Option<&Option<u64>>| s.copied().flatten().map_or(f64::INFINITY, |v| v as f64);
            match metric {
                BandsInOrder => {
                    f64::from(u8::from(converge_in_order(h, measures::BAND_THRESHOLD)?))
                }
                LowestBandSteps => steps(at.first()),
                _ => steps(at.last()),
            }
        }
        _ => {
            return Err(Error::new(format!(
                "{} is not a final metric",
                metric.name()
            )));
        }
    })
}

/// λ_max, number of negative eigenvalues and κ of the dense Hessian at the current θ.
pub fn spectrum(tr: &Trainer) -> Result<(f64, f64, f64)> {
    let opts = Options {
        method: Method::Dense,
        ..Options::default()
    };
    let r = analyse(tr.hessian_problem(false), opts).map_err(Error::new)?;
    Ok((r.lambda_max, r.negative_count, r.condition_number))
}

/// Unit eigenvectors of the smallest and largest Hessian eigenvalue at the current θ.
pub fn valley_directions(tr: &Trainer) -> Result<(Vec<f64>, Vec<f64>)> {
    let p = tr.net.n_params;
    let h = dense_hessian(tr.hessian_problem(false));
    let (_, vecs) = dense_eigen(p, &h, true).map_err(Error::new)?;
    Ok((vecs[0].clone(), vecs[p - 1].clone()))
}

fn feedback_angle(tr: &Trainer) -> Result<f64> {
    let b = tr.feedback_matrices().ok_or_else(|| {
        Error::new("the feedback angle needs the feedback_alignment training rule")
    })?;
    let out = tr.net.output();
    let r = out.w..out.w + out.n_weights();
    let (w, b) = (&tr.theta[r.clone()], &b[r]);
    let c = dot(w, b) / (norm(w) * norm(b));
    Ok(c.clamp(-1.0, 1.0).acos().to_degrees())
}

/// Slope of the mini-batch gradient variance E‖g_B − g‖² against B on log-log axes, at θ₀.
/// Batches are drawn without replacement from a fixed seed.
fn grad_var_slope(tr: &mut Trainer, check: &Check) -> Result<f64> {
    let (_, full) = tr.objective_and_gradient();
    let n = tr.train.rows();
    let d = tr.train.inputs;
    let samples = check.samples.unwrap_or(200).max(2);
    let mut rng = Rng::stream(tr.seed, "lesson-batches");
    let mut perm: Vec<usize> = (0..n).collect();
    let mut ws = Workspace::default();
    let mut g = vec![0.0; tr.net.n_params];
    let (mut bs, mut vars) = (Vec::new(), Vec::new());
    let r = tr.regularization;
    for &b in &check.batch_sizes {
        if b >= n {
            return Err(Error::field(
                "lesson.check.batch_sizes",
                format!("{b} is not below the {n} training rows"),
            ));
        }
        let mut total = 0.0;
        let (mut x, mut y) = (Vec::with_capacity(b * d), Vec::with_capacity(b));
        for _ in 0..samples {
            // A partial Fisher–Yates shuffle: the first b entries are a uniform subset.
            for i in 0..b {
                let j = i + rng.below(n - i);
                perm.swap(i, j);
            }
            x.clear();
            y.clear();
            for &row in &perm[..b] {
                x.extend_from_slice(tr.train.row(row));
                y.push(tr.train.y[row]);
            }
            let rows = Rows {
                x: &x,
                y: &y,
                classes: tr.train.classes,
            };
            objective(&tr.net, &tr.theta, rows, r.l1, r.l2, &mut ws, Some(&mut g));
            total += g
                .iter()
                .zip(&full)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>();
        }
        bs.push(b as f64);
        vars.push(total / samples as f64);
    }
    Ok(log_log_slope(&bs, &vars))
}

/// Run one epoch with each batch size and count the steps it took.
fn iters_per_epoch_error(tr: &Trainer, session: &Session, check: &Check) -> Result<f64> {
    let n = tr.train.rows();
    let mut worst = 0usize;
    for &b in &check.batch_sizes {
        let mut spec = tr.optimizer.spec().clone();
        if spec.kind == OptimizerKind::Gd {
            spec.kind = OptimizerKind::Sgd;
        }
        spec.batch_size = b;
        let mut config = session.trainer_config();
        config.optimizer = spec;
        let mut t = Trainer::new(
            &config,
            tr.train.clone(),
            tr.test.clone(),
            Some(tr.theta.clone()),
        )?;
        t.collect_stats = false;
        let mut steps = 0usize;
        while t.epoch == 0 && steps <= n {
            t.step();
            steps += 1;
        }
        worst = worst.max(steps.abs_diff(n.div_ceil(b.min(n))));
    }
    Ok(worst as f64)
}

fn unit_spread(tr: &Trainer) -> f64 {
    let layers = &tr.net.layers;
    let th = &tr.theta;
    let mut worst = 0.0f64;
    for i in 0..layers.len() - 1 {
        let (l, next) = (&layers[i], &layers[i + 1]);
        let (n, k) = (l.units, l.fan_in);
        for j in 1..n {
            for c in 0..k {
                worst = worst.max((th[l.w + j * k + c] - th[l.w + c]).abs());
            }
            worst = worst.max((th[l.b + j] - th[l.b]).abs());
            for r in 0..next.units {
                let row = next.w + r * n;
                worst = worst.max((th[row + j] - th[row]).abs());
            }
        }
    }
    worst
}

fn linear_map_error(tr: &Trainer) -> Result<f64> {
    let layers = &tr.net.layers;
    let last = layers.len() - 1;
    if layers.iter().any(|l| l.batch_norm || l.residual) {
        return Err(Error::new(
            "linear_map_error needs layers without BatchNorm or skips",
        ));
    }
    let th = &tr.theta;
    // A (rows × cols, row-major) and c: the composed affine map up to the current layer.
    let k0 = layers[0].fan_in;
    let mut a: Vec<f64> = th[layers[0].w..layers[0].w + layers[0].n_weights()].to_vec();
    let mut c: Vec<f64> = th[layers[0].b..layers[0].b + layers[0].units].to_vec();
    for l in &layers[1..] {
        let (n, k) = (l.units, l.fan_in);
        let w = &th[l.w..l.w + n * k];
        let mut a2 = vec![0.0; n * k0];
        let mut c2 = th[l.b..l.b + n].to_vec();
        for r in 0..n {
            for m in 0..k {
                let wv = w[r * k + m];
                for q in 0..k0 {
                    a2[r * k0 + q] += wv * a[m * k0 + q];
                }
                c2[r] += wv * c[m];
            }
        }
        a = a2;
        c = c2;
    }
    let rows = tr.train.rows();
    let mut ws = Workspace::default();
    tr.net
        .forward(th, &tr.train.x, rows, &mut ws, BnMode::Batch, None);
    let out = &layers[last];
    let u = &ws.layers[last].u;
    let (mut err, mut scale) = (0.0f64, 1.0f64);
    for r in 0..rows {
        let phi = &ws.input[r * k0..(r + 1) * k0];
        for j in 0..out.units {
            let lin = dot(&a[j * k0..(j + 1) * k0], phi) + c[j];
            let v = u[r * out.units + j];
            err = err.max((v - lin).abs());
            scale = scale.max(v.abs());
        }
    }
    Ok(err / scale)
}

fn dropout_output_scale(tr: &Trainer) -> Result<f64> {
    let layers = &tr.net.layers;
    let last = layers.len() - 1;
    let i = layers[..last]
        .iter()
        .rposition(|l| l.dropout > 0.0)
        .ok_or_else(|| Error::new("dropout_output_scale needs a hidden layer with dropout"))?;
    let next = &layers[i + 1];
    let rows = tr.train.rows();
    let mut ws = Workspace::default();
    // Σ over rows and units of W·a (the next layer's pre-activation without its bias).
    let contribution = |ws: &Workspace| -> f64 {
        let a = ws.layers[i].out();
        let n = layers[i].units;
        let w = &tr.theta[next.w..next.w + next.units * n];
        let mut s = 0.0;
        for r in 0..rows {
            for j in 0..next.units {
                s += dot(&w[j * n..(j + 1) * n], &a[r * n..(r + 1) * n]);
            }
        }
        s
    };
    tr.net
        .forward(&tr.theta, &tr.train.x, rows, &mut ws, BnMode::Batch, None);
    let eval = contribution(&ws);
    let mut rng = Rng::stream(tr.seed, "lesson-dropout");
    let draws = 50;
    let mut train = 0.0;
    for _ in 0..draws {
        tr.net.forward(
            &tr.theta,
            &tr.train.x,
            rows,
            &mut ws,
            BnMode::Batch,
            Some(&mut rng),
        );
        train += contribution(&ws);
    }
    Ok(eval / (train / draws as f64))
}
