# Reference figures for the IL-2 sheet, computed with metafor (Debian r-cran-metafor).
# Run from this folder: Rscript make_reference.R   (writes il2-PLO-*.json)
# The project's tests read the JSON; they never need R.
suppressMessages(library(metafor))
d <- read.csv("../../../extraction/il2_crc_response.csv", check.names = FALSE)
d <- d[!is.na(d$events) & !is.na(d$total), ]
dat <- escalc(measure = "PLO", xi = events, ni = total, data = d)
ctl <- list(threshold = 1e-10)
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NULL else unname(x)
block <- function(fit) {
  k <- fit$k
  out <- list(k = k, estimate = num(c(fit$b)), se = num(fit$se), ci_lower = num(fit$ci.lb),
              ci_upper = num(fit$ci.ub), stat = num(fit$zval), p = num(fit$pval),
              tau2 = num(fit$tau2), i2 = num(fit$I2), h2 = num(fit$H2), q = num(fit$QE),
              q_df = k - 1, q_p = num(fit$QEp))
  if (k > 1 && fit$method != "FE") {
    ci <- confint(fit)$random
    pr <- predict(fit)
    out$tau2_ci <- c(ci[1, 2], ci[1, 3])
    out$pi_lower <- pr$pi.lb; out$pi_upper <- pr$pi.ub
    out$natural <- list(estimate = plogis(c(fit$b)), ci_lower = plogis(fit$ci.lb), ci_upper = plogis(fit$ci.ub),
                        pi_lower = plogis(pr$pi.lb), pi_upper = plogis(pr$pi.ub))
  } else {
    out$natural <- list(estimate = plogis(c(fit$b)), ci_lower = plogis(fit$ci.lb), ci_upper = plogis(fit$ci.ub))
  }
  out
}
for (method in c("REML", "DL")) for (test in c("z", "knha")) {
  overall <- rma(yi, vi, data = dat, method = method, test = test, control = ctl)
  subs <- list()
  for (g in sort(unique(dat$route))) {
    s <- dat[dat$route == g, ]
    fit <- if (nrow(s) == 1) rma(yi, vi, data = s, method = "FE") else
      rma(yi, vi, data = s, method = method, test = test, control = ctl)
    subs[[g]] <- block(fit)
  }
  est <- sapply(subs, `[[`, "estimate"); se <- sapply(subs, `[[`, "se")
  between <- rma(est, sei = se, method = "FE")
  out <- list(case = sprintf("il2-PLO-%s-%s-by-route-separate", method, test), data = "il2_crc_response.csv",
              measure = "PLO", method = method, test = test,
              studies = lapply(seq_len(nrow(dat)), function(i) list(study_id = dat$study_id[i], yi = c(dat$yi[i]), vi = c(dat$vi[i]))),
              overall = block(overall), by = "route", subgroup_tau2 = "separate", subgroups = subs,
              subgroup_test = list(q = between$QE, df = length(subs) - 1, p = between$QEp),
              generated_with = paste("metafor", packageVersion("metafor"), R.version.string))
  writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), sprintf("%s.json", out$case))
}
