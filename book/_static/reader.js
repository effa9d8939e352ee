/* The book's reader fixes (loaded on every page, see _config.yml).
 *
 * 1. Sidebar buttons. sphinx-book-theme 1.3 puts a second `.primary-toggle`
 *    (and `.secondary-toggle`) button in the article header, the visible one,
 *    while its script and pydata-sphinx-theme's bind only the first button of
 *    each kind (the header's, hidden). A click on any other one is forwarded
 *    to that first button, so the visible buttons open and close the chapter
 *    list and the page's contents, at desktop and phone widths alike.
 *
 * 2. Solutions. A solution's title links to its exercise; clicking that link
 *    left the solution closed (sphinx-togglebutton finds no button for a click
 *    on a link and throws). A click anywhere on the title now opens or closes
 *    the solution, and a page address that targets a solution (or anything in
 *    it) opens it.
 */
(function () {
  "use strict";

  function forwardClicks(selector) {
    var buttons = Array.prototype.slice.call(document.querySelectorAll(selector));
    if (buttons.length < 2) return;
    var bound = buttons[0];
    buttons.slice(1).forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopImmediatePropagation();
        bound.click();
      }, true);
    });
  }

  function toggleButtonOf(box) {
    var title = box.querySelector(":scope > .admonition-title");
    return title && title.querySelector(".toggle-button");
  }

  function openTargetedSolution() {
    var id;
    try {
      id = decodeURIComponent(window.location.hash.slice(1));
    } catch (error) {
      return;
    }
    if (!id) return;
    var target = document.getElementById(id);
    var box = target && target.closest(".admonition.toggle");
    if (!box || !box.classList.contains("toggle-hidden")) return;
    var button = toggleButtonOf(box);
    if (button) {
      button.click();
      target.scrollIntoView();
    }
  }

  // A click on a link inside a foldable title opens or closes the fold instead.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".admonition.toggle > .admonition-title a");
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    var button = toggleButtonOf(link.closest(".admonition.toggle"));
    if (button) button.click();
  }, true);

  var done = false;
  function ready() {
    if (done) return;
    done = true;
    forwardClicks(".primary-toggle");
    forwardClicks(".secondary-toggle");
    openTargetedSolution();
  }

  window.addEventListener("hashchange", openTargetedSolution);
  // This script is deferred: it runs before DOMContentLoaded, whose handlers
  // include sphinx-togglebutton's, which gives the solutions their buttons.
  // Waiting one more turn after that event puts this after all of them.
  if (document.readyState === "complete") {
    ready();
  } else {
    document.addEventListener("DOMContentLoaded", function () { setTimeout(ready, 0); });
    window.addEventListener("load", ready);
  }
})();
