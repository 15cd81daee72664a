/* types_begin.h — set T, S and the math names for one pass over an _impl.h.
 * Define NN_F64 before including for the double pass. */
#ifdef NN_F64
#define T double
#define S f64
#define EXP exp
#define LOG log
#define LOG1P log1p
#define EXPM1 expm1
#define TANH tanh
#define ERF erf
#define ERFC erfc
#define PHI(x) ((T)0.5 * erfc(-(x) * 0.70710678118654752440))
#define SQRT sqrt
#define FABS fabs
#define POW pow
#else
#define T float
#define S f32
#define EXP nn_exp_f32
#define LOG nn_log_f32
#define LOG1P log1pf
#define EXPM1 expm1f
#define TANH nn_tanh_f32
#define ERF erff
#define ERFC erfcf
#define PHI(x) nn_phi_f32(x)
#define SQRT sqrtf
#define FABS fabsf
#define POW powf
#endif
