// GOV.UK Frontend needs these classes on <body> before its components run. The
// template normally does this inline; our Content-Security-Policy forbids
// inline script, so it lives here and loads at the top of <body>.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
