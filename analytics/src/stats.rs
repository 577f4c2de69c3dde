//! The statistics the experiment report needs, accurate to about 1e-14:
//! log-gamma (Lanczos), the regularized incomplete gamma function, `erfc`, and
//! from them normal and chi-square tail probabilities.

use std::f64::consts::PI;

/// The 97.5% quantile of the standard normal distribution (two-sided 95%).
pub const Z_975: f64 = 1.959_963_984_540_054;

const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// `ln Γ(x)` for `x > 0`.
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = LANCZOS[0];
    for (i, coefficient) in LANCZOS.iter().enumerate().skip(1) {
        sum += coefficient / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The regularized upper incomplete gamma function `Q(a, x) = Γ(a, x) / Γ(a)`.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_p_series(a, x)
    } else {
        gamma_q_fraction(a, x)
    }
}

fn prefactor(a: f64, x: f64) -> f64 {
    (-x + a * x.ln() - ln_gamma(a)).exp()
}

fn gamma_p_series(a: f64, x: f64) -> f64 {
    let mut term = 1.0 / a;
    let mut sum = term;
    let mut denominator = a;
    for _ in 0..1_000 {
        denominator += 1.0;
        term *= x / denominator;
        sum += term;
        if term.abs() < sum.abs() * 1e-17 {
            break;
        }
    }
    sum * prefactor(a, x)
}

fn gamma_q_fraction(a: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..1_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-17 {
            break;
        }
    }
    prefactor(a, x) * h
}

/// The complementary error function.
pub fn erfc(x: f64) -> f64 {
    let q = gamma_q(0.5, x * x);
    if x >= 0.0 { q } else { 2.0 - q }
}

/// Two-sided p-value of a standard normal statistic `z`.
pub fn normal_two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// `P(X > x)` for a chi-square variable with `df` degrees of freedom.
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    gamma_q(df / 2.0, x / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) {
        assert!((a - b).abs() <= tolerance, "{a} vs {b}");
    }

    #[test]
    fn known_values() {
        close(ln_gamma(0.5), PI.sqrt().ln(), 1e-14);
        close(ln_gamma(10.0), 362_880f64.ln(), 1e-12);
        close(erfc(0.0), 1.0, 1e-15);
        close(erfc(1.0), 0.157_299_207_050_285_13, 1e-14);
        close(erfc(3.0), 2.209_049_699_858_544e-5, 1e-18);
        close(erfc(-1.0), 1.842_700_792_949_715, 1e-14);
        close(normal_two_sided_p(Z_975), 0.05, 1e-13);
        close(normal_two_sided_p(2.575_829_303_548_901), 0.01, 1e-13);
        // df = 2: P(X > x) = exp(-x/2); df = 1 at 3.841458820694124 is 0.05.
        close(chi_square_sf(3.0, 2.0), (-1.5f64).exp(), 1e-14);
        close(chi_square_sf(3.841_458_820_694_124, 1.0), 0.05, 1e-13);
        close(chi_square_sf(11.344_866_730_144_373, 3.0), 0.01, 1e-13);
    }
}
