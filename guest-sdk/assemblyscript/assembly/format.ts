// formatFloat renders x as Go's fmt %v (strconv.FormatFloat(x, 'g', -1,
// 64)) does, so a message that quotes a value reads the same from a Go and
// an AssemblyScript stage: "1e+20", "0.0001", "1e-05", "+Inf", "NaN", "-0".
// The digits come from the standard library's shortest-form conversion
// (Grisu), then are laid out by Go's rules. For messages: it allocates.

export function formatFloat(x: f64): string {
  if (isNaN(x)) return "NaN";
  if (!isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  let neg = (reinterpret<u64>(x) >> 63) != 0;
  if (x == 0) return neg ? "-0" : "0";
  let js = (neg ? -x : x).toString();
  // Split the JavaScript form ("123.45", "1e+21", "1.5e-7") into digits
  // and the decimal point's position dp (value = 0.DIGITS × 10^dp).
  let digits = "";
  let dp = 0;
  let e = js.indexOf("e");
  let mant = e < 0 ? js : js.substring(0, e);
  let dot = mant.indexOf(".");
  let intPart = dot < 0 ? mant : mant.substring(0, dot);
  let frac = dot < 0 ? "" : mant.substring(dot + 1);
  digits = intPart + frac;
  dp = intPart.length;
  if (e >= 0) dp += I32.parseInt(js.substring(e + 1));
  // Strip leading zeros (0.000123) and trailing zeros (1200).
  let lead = 0;
  while (lead < digits.length - 1 && digits.charCodeAt(lead) == 0x30) lead++;
  digits = digits.substring(lead);
  dp -= lead;
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) == 0x30) end--;
  digits = digits.substring(0, end);

  let sign = neg ? "-" : "";
  let exp = dp - 1;
  if (exp < -4 || exp >= 6) {
    let s = sign + digits.charAt(0);
    if (digits.length > 1) s += "." + digits.substring(1);
    let ae = exp < 0 ? -exp : exp;
    return s + (exp < 0 ? "e-" : "e+") + (ae < 10 ? "0" : "") + ae.toString();
  }
  if (dp <= 0) return sign + "0." + "0".repeat(-dp) + digits;
  if (dp >= digits.length) return sign + digits + "0".repeat(dp - digits.length);
  return sign + digits.substring(0, dp) + "." + digits.substring(dp);
}
