/* html.js - draws memlens's HTML report from its JSON island (compiled into html.c).
 *
 * Reads <script id="memlens-data"> (layout in html.c's header comment) and
 * builds one section per process: header and totals, leak records
 * (filterable, sortable, paged, stacks on demand), an icicle graph of
 * leaked bytes, the memory layout, the heap's fragmentation, the heap-size
 * timeline, shm segments and leaked mappings.  Every string from the data
 * reaches the page through textContent or setAttribute: no HTML is ever
 * parsed from it.
 */
'use strict';
(function () {
  var KINDS = ['reachable', 'possible', 'indirect', 'definite'];   /* model order */
  var ORDER = ['definite', 'indirect', 'possible', 'reachable', 'suppressed'];
  var KIND_TEXT = {
    definite: 'definitely lost', indirect: 'indirectly lost', possible: 'possibly lost',
    reachable: 'still reachable', suppressed: 'suppressed'
  };
  var PAGE = 200;
  var T0 = performance.now();
  var D = JSON.parse(document.getElementById('memlens-data').textContent);
  var STR = D.strings || [], FR = D.frames || [], frameCache = [];

  /* ---- DOM helpers ------------------------------------------------------------ */

  function add(e, kids) {
    for (var i = 0; i < kids.length; i++) {
      var c = kids[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) add(e, c);
      else e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function setProps(e, props) {
    for (var k in props) {
      var v = props[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k === 'text') e.textContent = v;
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else if (k === 'style') e.setAttribute('style', v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  function el(tag, props) {
    var e = document.createElement(tag);
    if (props) setProps(e, props);
    return add(e, Array.prototype.slice.call(arguments, 2));
  }
  function sv(tag, props) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    if (props) setProps(e, props);
    return add(e, Array.prototype.slice.call(arguments, 2));
  }
  /* A section without data: not recorded at all, or recorded and empty (none). */
  function empty(what) {
    return el('p', {class: 'empty'}, el('b', null, 'Not recorded for this process. '), what);
  }
  function none(what) {
    return el('p', {class: 'empty'}, el('b', null, 'None. '), what);
  }

  /* ---- formatting --------------------------------------------------------------- */

  function num(n) { return Number(n).toLocaleString('en-US'); }
  function bytes(n) {
    if (n < 1024) return num(n) + ' B';
    var u = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'], v = n, i = -1;
    do { v /= 1024; i++; } while (v >= 1024 && i < u.length - 1);
    return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ' + u[i];
  }
  function pct(a, b) {
    if (!b) return '\u2013';
    var p = 100 * a / b;
    return (p > 0 && p < 1 ? p.toFixed(1) : p.toFixed(0)) + '%';
  }
  function plural(n, w) { return num(n) + ' ' + w + (n === 1 ? '' : 's'); }
  function base(p) { var i = p.lastIndexOf('/'); return i >= 0 ? p.slice(i + 1) : p; }
  function str(i) { return i >= 0 && i < STR.length ? STR[i] : null; }
  function frame(i) {
    var f = frameCache[i];
    if (f) return f;
    var a = FR[i] || ['0x0', -1, -1, 0, -1, 0, -1];
    f = {addr: a[0], fn: str(a[1]), file: str(a[2]), line: a[3], mod: str(a[4]),
         inl: !!a[5], mangled: str(a[6])};
    frameCache[i] = f;
    return f;
  }
  function frameName(f) {
    if (f.fn) return f.fn;
    return f.mod ? f.addr + ' (' + base(f.mod) + ')' : f.addr;
  }
  function srcText(f) { return f.file ? base(f.file) + (f.line > 0 ? ':' + f.line : '') : ''; }
  /* The frame that best says where a stack allocated: the first caller of
   * the program's own source (in a traced executable, or with a source file
   * outside /usr), else the first named one in a traced executable, else
   * the first in one, else the first caller. */
  var PROGRAMS = {};
  (D.processes || []).forEach(function (p) { if (p.exe) PROGRAMS[p.exe] = true; });
  function ownSource(f) { return f.file && f.file.indexOf('/usr/') !== 0; }
  /* Allocation wrappers (D.alloc_fns: the known ones and --alloc-fn's):
   * "Allocated at" names the first frame outside them, as massif does. */
  var WRAPPERS = {};
  (D.alloc_fns || []).forEach(function (n) { WRAPPERS[n] = true; });
  function isWrapper(f) { return (f.fn && WRAPPERS[f.fn]) || (f.mangled && WRAPPERS[f.mangled]); }
  function siteOf(stack, noAllocator) {
    var from = noAllocator ? 0 : 1;     /* stack[0] is the allocator's own frame, unless noAllocator */
    while (from < stack.length - 1 && isWrapper(frame(stack[from]))) from++;
    var tests = [
      function (f) { return f.fn && PROGRAMS[f.mod] && ownSource(f); },
      function (f) { return f.fn && f.file && f.file.charAt(0) === '/' && ownSource(f); },
      function (f) { return f.fn && PROGRAMS[f.mod]; },
      function (f) { return PROGRAMS[f.mod]; }];
    for (var t = 0; t < tests.length; t++)
      for (var i = from; i < stack.length; i++) {
        var f = frame(stack[i]);
        if (tests[t](f)) return f;
      }
    return stack.length > from ? frame(stack[from]) : stack.length ? frame(stack[0]) : null;
  }
  function exitText(x) {
    if (!x) return 'unknown';
    if (x.detached) return 'detached (still running)';
    if (x.signal) return 'killed by ' + x.signal;
    return 'exited with code ' + x.code;
  }
  function duration(s) {
    if (!(s > 0)) return '\u2013';
    return s < 1 ? (s * 1000).toFixed(0) + ' ms' : s < 120 ? s.toFixed(2) + ' s' : (s / 60).toFixed(1) + ' min';
  }
  function shellWord(a) { return /^[A-Za-z0-9_\/.,:=+@%-]+$/.test(a) ? a : "'" + a.replace(/'/g, "'\\''") + "'"; }

  /* ---- stacks ------------------------------------------------------------------------- */

  function stackList(stack) {
    var ol = el('ol', {class: 'stack'});
    for (var i = 0; i < stack.length; i++) {
      var f = frame(stack[i]);
      ol.appendChild(el('li', {title: f.mangled ? f.mangled : null},
        el('span', {class: 'fn' + (f.fn ? '' : ' unk')}, frameName(f), f.inl ? el('span', {class: 'inl'}, 'inlined') : null),
        el('span', {class: 'src', title: f.file}, srcText(f) || '\u2013'),
        el('span', {class: 'mod', title: f.mod}, f.mod ? base(f.mod) : '', ' ', el('span', {class: 'mod'}, f.addr === '0x0' ? '' : f.addr))));
    }
    if (!stack.length) ol.appendChild(el('li', null, el('span', {class: 'fn unk'}, 'no allocation stack was recorded')));
    return ol;
  }
  function whereCell(stack, noAllocator) {
    var f = siteOf(stack, noAllocator);
    if (!f) return el('td', {class: 'where'}, el('span', {class: 'fn'}, '\u2013'));
    return el('td', {class: 'where'}, el('span', {class: 'caret'}, '\u25B8'), ' ',
      el('span', {class: 'fn'}, frameName(f)), ' ', el('span', {class: 'src'}, srcText(f)));
  }
  /* A table body whose first row opens the stack below it on click. */
  function expandable(tb, stack, extra) {
    var row = tb.firstChild, open = null;
    row.setAttribute('tabindex', '0');
    row.setAttribute('aria-expanded', 'false');
    row.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); row.click(); }
    });
    row.addEventListener('click', function () {
      if (open) { tb.removeChild(open); open = null; tb.classList.remove('open'); row.setAttribute('aria-expanded', 'false'); return; }
      open = el('tr', {class: 'stackrow'}, el('td', {colspan: row.children.length}, extra || null, stackList(stack)));
      tb.appendChild(open);
      tb.classList.add('open');
      row.setAttribute('aria-expanded', 'true');
    });
    return tb;
  }

  /* ---- header ---------------------------------------------------------------------------- */

  function kindOfRec(r) { return r[5] !== null ? 'suppressed' : KINDS[r[0]]; }

  function summaryBar(p) {
    var total = 0, bar = el('div', {class: 'sumbar'});
    ORDER.forEach(function (k) { total += p.summary[k][1]; });
    ORDER.forEach(function (k) {
      var b = p.summary[k][1];
      if (b > 0) bar.appendChild(el('div', {'data-kind': k, style: 'flex:' + b + ' 0 0;background:var(--c)',
        title: KIND_TEXT[k] + ': ' + num(b) + ' bytes (' + pct(b, total) + ')'}));
    });
    return bar;
  }
  function tiles(p) {
    return el('div', {class: 'tiles'}, ORDER.map(function (k) {
      var s = p.summary[k];
      return el('div', {class: 'tile' + (s[1] ? '' : ' zero'), 'data-kind': k},
        el('div', {class: 'k'}, KIND_TEXT[k]), el('div', {class: 'v'}, bytes(s[1])),
        el('div', {class: 'b'}, num(s[1]) + ' bytes in ' + plural(s[0], 'block')));
    }));
  }
  function fact(k, v, cls, sub) {
    return el('div', {class: 'fact'}, el('div', {class: 'k'}, k), el('div', {class: 'v' + (cls ? ' ' + cls : '')}, v),
      sub ? el('div', {class: 'h'}, sub) : null);
  }

  function header(p) {
    var a = p.alloc, argv = (p.argv && p.argv.length ? p.argv : D.command) || [];
    var bad = p.exit && (p.exit.signal || (p.exit.code !== undefined && p.exit.code !== 0));
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-summary'},
      el('h2', null, 'Summary'),
      el('div', {class: 'argv', title: 'command line'}, argv.map(shellWord).join(' ')),
      el('div', {class: 'facts'},
        fact('Process', 'pid ' + p.pid, null, p.ppid ? 'parent ' + p.ppid : null),
        fact('Exit status', exitText(p.exit), bad ? 'bad' : null),
        fact('Duration', duration(p.duration)),
        fact('Allocations', num(a.calls) + ' allocs, ' + num(a.frees) + ' frees'),
        fact('Bytes allocated', bytes(a.bytes)),
        fact('Peak live heap', bytes(a.peak_live_bytes)),
        fact(p.exit && p.exit.detached ? 'In use at detach' : 'In use at exit', bytes(a.live_bytes) + ' in ' + plural(a.live_blocks, 'block'))));
    if (!p.saw_shim) card.appendChild(el('p', {class: 'note'}, 'No allocation was seen: the program uses a static allocator, or the memlens shim was not loaded into it.'));
    else if (!p.scanned) card.appendChild(el('p', {class: 'note'}, 'The memory of the process could not be read at exit: the leak kinds of its live blocks are unknown.'));
    else if (p.unread_bytes) card.appendChild(el('p', {class: 'note'}, bytes(p.unread_bytes) + ' of the process\u2019s memory could not be read at exit (memlens ran out of memory): blocks referenced only from there are counted as lost.'));
    if (p.scanned && p.uncopied_bytes) card.appendChild(el('p', {class: 'note'}, bytes(p.uncopied_bytes) + ' of heap memory could not be copied at exit (memlens ran out of memory) and was only scanned for pointers: memcheck\u2019s heuristics do not apply to blocks there, and the heap figures miss it.'));
    card.appendChild(summaryBar(p));
    card.appendChild(tiles(p));
    return card;
  }

  /* ---- leak records ------------------------------------------------------------------------- */

  /* "loss record i of n", numbered as the text report numbers them. */
  function lossRecord(p, r) { return 'loss record ' + num(r.num) + ' of ' + num(p.records.length); }
  function recordRow(p, r) {
    var k = KINDS[r[0]], sup = r[5] !== null;
    var tb = el('tbody', {class: 'rec', 'data-leak-kind': k, 'data-suppressed': sup ? 'yes' : null, 'data-record': r.num},
      el('tr', {class: 'row'},
        el('td', {class: 'n recno', title: lossRecord(p, r)}, num(r.num)),
        el('td', null, el('span', {class: 'badge', 'data-kind': sup ? 'suppressed' : k}, sup ? 'suppressed' : k)),
        el('td', {class: 'n'}, num(r[2] + r[3]), r[3] ? el('div', {class: 'ind', title: num(r[2]) + ' bytes direct, ' + num(r[3]) + ' bytes indirect'},
          num(r[2]) + ' + ' + num(r[3]) + ' indirect') : null),
        el('td', {class: 'n'}, num(r[1])),
        whereCell(r[6]),
        el('td', {class: 'mod'}, (function () { var f = siteOf(r[6]); return f && f.mod ? base(f.mod) : ''; })())));
    var notes = [lossRecord(p, r)];
    if (sup) notes.push(k + ' leak, suppressed by \u201C' + r[5] + '\u201D');
    if (r[7]) notes.push('allocated ' + r[7][0].toFixed(1) + ' to ' + r[7][1].toFixed(1) + ' seconds before the end of the recording');
    var extra = el('p', {class: 'supp-by'}, notes.join(' \u00b7 '));
    return expandable(tb, r[6], extra);
  }

  /* Does record r pass the filters of st (kinds: st.kinds, or the given ones)? */
  function recordMatches(r, st, kinds) {
    if (!(kinds || st.kinds)[kindOfRec(r)]) return false;
    if (r[2] + r[3] < st.minBytes || r[1] < st.minBlocks) return false;
    if (!st.q) return true;
    for (var i = 0; i < r[6].length; i++) {
      var f = frame(r[6][i]);
      if ((f.fn && f.fn.toLowerCase().indexOf(st.q) >= 0) || (f.file && f.file.toLowerCase().indexOf(st.q) >= 0) ||
          (f.mod && f.mod.toLowerCase().indexOf(st.q) >= 0) || (f.mangled && f.mangled.toLowerCase().indexOf(st.q) >= 0))
        return true;
    }
    return false;
  }

  var SORTS = {
    size: function (r) { return r[2] + r[3]; },
    blocks: function (r) { return r[1]; },
    record: function (r) { return r.num; },
    kind: function (r) { return r[5] !== null ? -1 : r[0]; },
    where: function (r) { var f = siteOf(r[6]); return f ? frameName(f).toLowerCase() : ''; }
  };

  function sortRecords(list, st) {
    var key = SORTS[st.sort], dir = st.asc ? 1 : -1;
    var keyed = list.map(function (r, i) { return [key(r), SORTS.size(r), i, r]; });
    keyed.sort(function (a, b) {
      if (a[0] < b[0]) return -dir;
      if (a[0] > b[0]) return dir;
      if (a[1] !== b[1]) return b[1] - a[1];
      return a[2] - b[2];
    });
    return keyed.map(function (x) { return x[3]; });
  }

  /* Toggle buttons for the kinds in on (a kind -> bool map they change). */
  function kindChips(p, on, onchange) {
    var counts = {};
    ORDER.forEach(function (k) { counts[k] = 0; });
    p.records.forEach(function (r) { counts[kindOfRec(r)]++; });
    return ORDER.map(function (k) {
      var b = el('button', {class: 'chip' + (on[k] ? '' : ' off'), 'data-kind': k, type: 'button',
        title: 'show or hide ' + KIND_TEXT[k] + ' records'}, KIND_TEXT[k] + ' (' + num(counts[k]) + ')');
      b.addEventListener('click', function () {
        on[k] = !on[k];
        b.classList.toggle('off', !on[k]);
        onchange();
      });
      return b;
    });
  }

  function numberInput(label, onchange) {
    var i = el('input', {type: 'number', min: 0, step: 1, placeholder: '0'});
    i.addEventListener('input', onchange);
    return [el('label', null, label, i), i];
  }

  var CHUNK = 1000;   /* records drawn per task after the first page */

  function leaksCard(p, st, redrawFlame) {
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-leaks'},
      el('h2', null, 'Leak records'),
      el('p', {class: 'lead'}, 'One record per allocation stack and leak kind, as memcheck groups them. Click a record for its stack.'));
    if (!p.records.length) {
      card.appendChild(el('p', {class: 'empty'}, p.saw_shim && p.scanned ? 'No live block at exit: no leak is possible.' : 'Not recorded for this process.'));
      return card;
    }
    /* #all draws every record at once (for printing and for tests); the
     * buttons draw more in slices of CHUNK rows, one slice per task, so
     * the page keeps answering while 100,000 records appear. */
    var shown = location.hash === '#all' ? Infinity : PAGE, list = [], sync = shown === Infinity;
    var chunkTimer = null;
    var count = el('span', {class: 'count'});
    var table = el('table', {class: 'records'});
    var pager = el('div', {class: 'pager'});
    var timer = null;
    function refresh() {
      list = sortRecords(p.records.filter(function (r) { return recordMatches(r, st); }), st);
      sayHidden();
      draw();
      redrawFlame();
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 120); }
    var minB = numberInput('min bytes', function () { st.minBytes = +minB[1].value || 0; later(); });
    var minK = numberInput('min blocks', function () { st.minBlocks = +minK[1].value || 0; later(); });
    var q = el('input', {type: 'search', placeholder: 'function, file or module'});
    q.addEventListener('input', function () { st.q = q.value.trim().toLowerCase(); later(); });
    var chips = kindChips(p, st.kinds, refresh);
    card.appendChild(el('div', {class: 'toolbar'}, chips, minB[0], minK[0],
      el('label', null, 'find', q), count));
    var hidden = el('p', {class: 'hidden-kinds'});
    card.appendChild(hidden);
    /* The kinds left out by --show-leak-kinds are one click away. */
    function sayHidden() {
      var n = 0, names = [];
      ORDER.forEach(function (k) {
        if (st.kinds[k]) return;
        var c = p.records.filter(function (r) { return kindOfRec(r) === k; }).length;
        if (c) { n += c; names.push(KIND_TEXT[k] + ' ' + num(c)); }
      });
      while (hidden.lastChild) hidden.removeChild(hidden.lastChild);
      hidden.hidden = !n;
      if (n) add(hidden, [plural(n, 'record') + ' of other kinds not shown (' + names.join(', ') + '). ',
        el('button', {class: 'btn', type: 'button', onclick: function () {
          chips.forEach(function (b) { if (b.classList.contains('off')) b.click(); });
        }}, 'Show all kinds')]);
    }
    var heads = [['Record', 'record', 'n c-rec'], ['Kind', 'kind', 'c-kind'], ['Bytes', 'size', 'n c-num'], ['Blocks', 'blocks', 'n c-num'], ['Allocated at', 'where', ''], ['Module', null, 'c-mod']];
    var thead = el('thead', null, el('tr', null, heads.map(function (h) {
      var th = el('th', {class: (h[2] ? h[2] + ' ' : '') + (h[1] ? 'sort' : '') + (h[1] === st.sort ? ' on' : '')}, h[0]);
      if (h[1]) th.addEventListener('click', function () {
        st.asc = st.sort === h[1] ? !st.asc : h[1] === 'where';
        st.sort = h[1];
        Array.prototype.forEach.call(thead.querySelectorAll('th'), function (t) { t.classList.remove('on', 'asc'); });
        th.classList.add('on');
        th.classList.toggle('asc', st.asc);
        refresh();
      });
      return th;
    })));
    function setPager(parts) {
      while (pager.lastChild) pager.removeChild(pager.lastChild);
      add(pager, parts);
    }
    function more(to) { return function () { shown = to === Infinity ? to : shown + to; draw(true); }; }
    /* Rows [from, n) of list, a slice per task unless sync. */
    function rows(from, n, sync) {
      var frag = document.createDocumentFragment(), stop = sync ? n : Math.min(n, from + CHUNK);
      for (var i = from; i < stop; i++) frag.appendChild(recordRow(p, list[i]));
      table.appendChild(frag);
      if (stop < n) {
        setPager(['Drawing ' + num(stop) + ' of ' + num(n) + ' records\u2026']);
        chunkTimer = setTimeout(function () { rows(stop, n, false); }, 0);
      } else if (n < list.length) {
        setPager(['Showing ' + num(n) + ' of ' + num(list.length),
          el('button', {class: 'btn', type: 'button', onclick: more(PAGE)}, 'Show ' + PAGE + ' more'),
          el('button', {class: 'btn', type: 'button', onclick: more(Infinity)}, 'Show all')]);
      } else {
        setPager([]);
      }
    }
    /* Redraw; keep is set when the rows already drawn stay (more of the same list). */
    function draw(keep) {
      clearTimeout(chunkTimer);
      var from = keep ? table.querySelectorAll('tbody.rec').length : 0;
      if (!keep) {
        while (table.lastChild) table.removeChild(table.lastChild);
        table.appendChild(thead);
      }
      count.textContent = num(list.length) + ' of ' + plural(p.records.length, 'record');
      if (!list.length)
        table.appendChild(el('tbody', null, el('tr', null, el('td', {colspan: heads.length, class: 'norec'},
          'No record of the kinds and filters chosen.'))));
      rows(from, Math.min(shown, list.length), sync);
      sync = false;
    }
    card.appendChild(table);
    card.appendChild(pager);
    st.refresh = refresh;
    list = sortRecords(p.records.filter(function (r) { return recordMatches(r, st); }), st);
    sayHidden();
    draw();
    return card;
  }

  /* ---- flame graph (icicle) ------------------------------------------------------------------- */

  function newNode(name, parent) { return {name: name, value: 0, blocks: 0, kinds: {}, kids: {}, list: [], parent: parent, f: null}; }

  function buildTree(records) {
    var root = newNode('all leaked bytes', null);
    records.forEach(function (r) {
      var k = kindOfRec(r), node = root, st = r[6];
      root.value += r[2]; root.blocks += r[1]; root.kinds[k] = (root.kinds[k] || 0) + r[2];
      for (var i = st.length - 1; i >= 0; i--) {
        var f = frame(st[i]), name = frameName(f), next = node.kids[name];
        if (!next) { next = node.kids[name] = newNode(name, node); next.f = f; node.list.push(next); }
        node = next;
        node.value += r[2]; node.blocks += r[1]; node.kinds[k] = (node.kinds[k] || 0) + r[2];
      }
    });
    return root;
  }
  function hash(s) { var h = 0; for (var i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return Math.abs(h); }
  var HUES = {definite: [2, 75], indirect: [24, 90], possible: [42, 90], reachable: [162, 50], suppressed: [210, 8]};
  function nodeColor(n) {
    var best = 'definite', bv = -1;
    for (var k in n.kinds) if (n.kinds[k] > bv) { bv = n.kinds[k]; best = k; }
    var h = HUES[best], l = 62 + (hash(n.name) % 16);
    return 'hsl(' + h[0] + ',' + h[1] + '%,' + l + '%)';
  }

  function flameCard(p, st) {
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-flame'},
      el('h2', null, 'Where the leaked bytes were allocated'),
      el('p', {class: 'lead'}, 'Icicle graph of the lost bytes by allocation stack: callers on top, the allocator at the bottom, width in direct bytes. ' +
        'The size and text filters of the records apply. Click a frame to zoom, a crumb to zoom out.'));
    var kinds = {definite: true, indirect: true, possible: true, reachable: false, suppressed: false};
    var crumbs = el('div', {class: 'crumbs'}), box = el('div', {class: 'flame'}), hover = el('div', {class: 'hover'});
    if (p.records.length) card.appendChild(el('div', {class: 'toolbar'}, kindChips(p, kinds, function () { redraw(); })));
    add(card, [crumbs, box, hover]);
    var ROW = 24, root = null, zoom = null, deepest = 0;
    function label(n) { return n.name + ' \u2014 ' + num(n.value) + ' bytes (' + pct(n.value, root.value) + ') in ' + plural(n.blocks, 'block'); }
    function place(n, depth, x, w) {
      if (w < 0.0015) return;
      deepest = Math.max(deepest, depth);
      var d = el('div', {class: 'node', style: 'left:' + (x * 100) + '%;width:' + (w * 100) + '%;top:' + (depth * ROW) + 'px;background:' + nodeColor(n)}, w > 0.02 ? n.name : '');
      d.addEventListener('click', function (ev) { ev.stopPropagation(); zoom = n; render(); });
      d.addEventListener('mouseenter', function () { hover.textContent = label(n) + (n.f && n.f.file ? '  \u00b7  ' + srcText(n.f) : ''); });
      d.setAttribute('title', label(n));
      box.appendChild(d);
      var off = x;
      n.list.slice().sort(function (a, b) { return b.value - a.value; }).forEach(function (c) {
        var cw = n.value ? w * c.value / n.value : 0;
        place(c, depth + 1, off, cw);
        off += cw;
      });
    }
    function render() {
      while (box.lastChild) box.removeChild(box.lastChild);
      while (crumbs.lastChild) crumbs.removeChild(crumbs.lastChild);
      if (!root.value) { box.style.height = 'auto'; box.appendChild(none('No bytes of the kinds chosen.')); return; }
      var chain = [], n = zoom;
      while (n) { chain.unshift(n); n = n.parent; }
      chain.forEach(function (c, i) {
        if (i) crumbs.appendChild(document.createTextNode(' \u203A '));
        var a = el('a', {role: 'button'}, i ? c.name : 'all');
        a.addEventListener('click', function () { zoom = c; render(); });
        crumbs.appendChild(a);
      });
      var zd = chain.length - 1;
      deepest = zd;
      chain.slice(0, -1).forEach(function (c, i) {
        var d = el('div', {class: 'node anc', style: 'left:0;width:100%;top:' + (i * ROW) + 'px;background:' + nodeColor(c), title: label(c)}, c.name);
        d.addEventListener('click', function () { zoom = c; render(); });
        box.appendChild(d);
      });
      place(zoom, zd, 0, 1);
      box.style.height = ((deepest + 1) * ROW + 2) + 'px';
    }
    function redraw() {
      root = buildTree(p.records.filter(function (r) { return recordMatches(r, st, kinds); }));
      zoom = root;
      render();
    }
    if (!p.records.length) {
      card.appendChild(empty('No leak records, so no stacks to draw.'));
      box.remove();
      return [card, function () {}];
    }
    redraw();
    return [card, redraw];
  }

  /* ---- memory map ------------------------------------------------------------------------------------ */

  function big(h) { return BigInt(h); }
  function gapBytes(hi, lo) {
    try { return Number(big(hi) - big(lo)); } catch (e) { return parseInt(hi, 16) - parseInt(lo, 16); }
  }
  function regionName(r) {
    if (r.path) return r.path.charAt(0) === '/' ? base(r.path) : r.path;
    return r.kind === 'bss' ? '(bss)' : '(anonymous)';
  }
  function regionRow(r) {
    var h = Math.round(16 + 5 * Math.log2(1 + r.size / 4096));
    var sz = r.size || 1, res = r.resident / sz, swp = r.swapped / sz, unt = Math.max(0, 1 - res - swp);
    var box = el('div', {class: 'box', style: 'height:' + h + 'px'},
      el('div', {class: 'res', style: 'left:0;width:' + (res * 100) + '%'}),
      el('div', {class: 'swp', style: 'left:' + (res * 100) + '%;width:' + (swp * 100) + '%'}),
      el('div', {class: 'unt', style: 'left:' + ((res + swp) * 100) + '%;width:' + (unt * 100) + '%'}),
      el('span', {class: 'kindlbl' + (res < 0.3 ? ' dark' : '')}, r.kind));
    var tip = r.start + '\u2013' + r.end + ' ' + r.perms + ' ' + (r.path || '') + '\n' + num(r.size) + ' bytes: resident ' +
      num(r.resident) + ', swapped ' + num(r.swapped) + ', untouched ' + num(r.untouched) + (r.origin ? '\nmade by ' + r.origin : '');
    var own = r.owner === 'memlens';
    return el('div', {class: 'region' + (own ? ' own' : ''), 'data-rk': r.kind, 'data-owner': r.owner || null, title: tip},
      el('div', {class: 'addr'}, r.end),
      box,
      el('div', {class: 'lbl'}, el('span', {class: 'nm'}, regionName(r)), ' ', own ? el('span', {class: 'ownlbl', title: 'exists only because memlens is there'}, 'memlens') : null, ' ',
        el('span', {class: 'meta'}, bytes(r.size) + ' \u00b7 ' + r.perms + ' \u00b7 ' + pct(r.resident, r.size) + ' resident' +
          (r.swapped ? ' \u00b7 ' + bytes(r.swapped) + ' swapped' : ''))));
  }
  /* memlens's event session, mapped into the process while it is traced: drawn
   * so that its addresses do not read as unmapped, counted nowhere. */
  function ownRow(r) {
    var size = gapBytes(r.end, r.start);
    return el('div', {class: 'region', 'data-rk': 'memlens', title: r.start + '\u2013' + r.end + ' memlens session'},
      el('div', {class: 'addr'}, r.end),
      el('div', {class: 'box', style: 'height:16px'}, el('div', {class: 'res', style: 'left:0;width:100%'}),
        el('span', {class: 'kindlbl'}, 'memlens')),
      el('div', {class: 'lbl'}, el('span', {class: 'nm'}, 'memlens session'), ' ',
        el('span', {class: 'meta'}, bytes(size) + ' \u00b7 not the program\u2019s')));
  }
  function gapRow(bytesGap, addr) {
    return el('div', {class: 'gap'}, el('div', {class: 'addr'}), el('div', {class: 'box'}),
      el('div', {class: 'lbl'}, 'unmapped \u00b7 ' + bytes(bytesGap) + ' \u00b7 below ' + addr));
  }
  function isProgram(r) { return r.owner !== 'memlens'; }
  /* The program's regions by kind; memlens's own (the shim, the libraries
   * loaded only for it) on a line of their own, counted nowhere else. */
  function kindTable(all) {
    var by = {}, order = [], regions = all.filter(isProgram), own = {n: 0, size: 0, res: 0, names: []};
    all.forEach(function (r) {
      if (isProgram(r)) return;
      own.n++; own.size += r.size; own.res += r.resident;
      if (r.path && own.names.indexOf(base(r.path)) < 0) own.names.push(base(r.path));
    });
    regions.forEach(function (r) {
      var k = by[r.kind];
      if (!k) { k = by[r.kind] = {n: 0, size: 0, res: 0, swp: 0, unt: 0}; order.push(r.kind); }
      k.n++; k.size += r.size; k.res += r.resident; k.swp += r.swapped; k.unt += r.untouched;
    });
    order.sort(function (a, b) { return by[b].size - by[a].size; });
    return el('table', {class: 'small'},
      el('thead', null, el('tr', null, el('th', null, 'kind'), el('th', {class: 'n'}, 'regions'), el('th', {class: 'n'}, 'size'),
        el('th', {class: 'n'}, 'resident'), el('th', {class: 'n'}, 'swapped'), el('th', {class: 'n'}, 'untouched'))),
      el('tbody', null, order.map(function (k) {
        var t = by[k];
        return el('tr', {'data-rk': k}, el('td', null, el('span', {class: 'sw'}), k), el('td', {class: 'n'}, num(t.n)),
          el('td', {class: 'n'}, bytes(t.size)), el('td', {class: 'n'}, bytes(t.res)), el('td', {class: 'n'}, bytes(t.swp)),
          el('td', {class: 'n'}, bytes(t.unt)));
      })),
      own.n ? el('tfoot', null, el('tr', {class: 'ownrow', 'data-owner': 'memlens', title: own.names.join(', ')},
        el('td', null, 'memlens\u2019s own'), el('td', {class: 'n'}, num(own.n)), el('td', {class: 'n'}, bytes(own.size)),
        el('td', {class: 'n'}, bytes(own.res)), el('td', {colspan: 2, class: 'ownnames'}, 'not counted above: ' + own.names.join(', ')))) : null);
  }
  function mapLegend() {
    var kinds = ['text', 'rodata', 'data', 'bss', 'heap', 'mmap-anon', 'mmap-file', 'shm', 'tls', 'stack', 'vdso', 'memlens'];
    return el('div', {class: 'legend'}, kinds.map(function (k) { return el('span', {'data-rk': k}, el('i'), k); }),
      el('span', null, el('i', {class: 'res'}), 'resident'), el('span', null, el('i', {class: 'swp'}), 'swapped'),
      el('span', null, el('i', {class: 'unt'}), 'untouched'));
  }
  function mapCard(p) {
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-map'},
      el('h2', null, D.mode === 'attach' ? 'Memory layout at detach' : 'Memory layout at exit'),
      el('p', {class: 'lead'}, 'Every mapping of the process, high addresses on top, heights on a log scale; the fill shows how much of each is resident, swapped or never touched.'));
    if (!p.regions.length) { card.appendChild(empty('The memory map was not captured.')); return card; }
    var own = (p.memlens_regions || []).map(function (m) { return {start: m[0], end: m[1], own: true}; });
    var regs = p.regions.concat(own).sort(function (a, b) { return gapBytes(b.start, a.start) > 0 ? 1 : -1; });
    var col = el('div', {class: 'layout'});
    regs.forEach(function (r, i) {
      if (i > 0) {
        var g = gapBytes(regs[i - 1].start, r.end);
        if (g > 0) col.appendChild(gapRow(g, regs[i - 1].start));
      }
      col.appendChild(r.own ? ownRow(r) : regionRow(r));
    });
    add(card, [mapLegend(), el('div', {class: 'mapwrap'}, col, el('div', null, el('div', {class: 'sub2'}, 'By kind'), kindTable(p.regions)))]);
    return card;
  }

  /* ---- heap ---------------------------------------------------------------------------------------- */

  function stat(k, v, h) { return el('div', {class: 'stat'}, el('div', {class: 'k'}, k), el('div', {class: 'v'}, v), h ? el('div', {class: 'h'}, h) : null); }
  function heapStats(h) {
    return el('div', {class: 'stats'},
      stat('heap extent', bytes(h.extent_bytes), 'mapped by malloc'),
      stat('live', bytes(h.live_bytes), pct(h.live_bytes, h.extent_bytes) + ' of the extent'),
      stat('internal fragmentation', bytes(h.internal_fragmentation_bytes), 'usable ' + bytes(h.usable_bytes)),
      stat('free', bytes(h.free_bytes), 'largest piece ' + bytes(h.largest_free_bytes)),
      stat('external fragmentation', (100 * (h.external_fragmentation || 0)).toFixed(1) + '%', '1 \u2212 largest free / free'),
      stat('resident', bytes(h.resident_bytes), pct(h.resident_bytes, h.extent_bytes) + ' of the extent'),
      stat('resident free pages', num(h.resident_free_pages), bytes(h.resident_free_pages * 4096) + ' of RSS holding no live data'),
      stat('trimmable', bytes(h.trimmable_bytes), 'malloc_trim(0) could return'));
  }
  var PAGE_COLORS = {'0': '#ffffff', '1': '#3b5bdb', '2': '#f76707', '3': '#dfe3e8'};
  var PAGE_TEXT = {'0': 'unknown', '1': 'holds live data', '2': 'free, still resident', '3': 'free, released'};
  function pageStrip(h) {
    var pages = h.pages || '', n = pages.length;
    var wrap = el('div'), cv = el('canvas', {class: 'strip'}), info = el('div', {class: 'hover'});
    var counts = {'0': 0, '1': 0, '2': 0, '3': 0};
    for (var i = 0; i < n; i++) counts[pages.charAt(i)] = (counts[pages.charAt(i)] || 0) + 1;
    add(wrap, [el('div', {class: 'legend'}, ['1', '2', '3', '0'].map(function (s) {
      return el('span', null, el('i', {'data-ps': s}), PAGE_TEXT[s] + ' (' + num(counts[s]) + ')');
    })), cv, info]);
    var W = 1200, cell = Math.max(3, Math.min(18, Math.floor(Math.sqrt(W * 160 / Math.max(1, n)))));
    var cols = Math.floor(W / cell), per = Math.max(1, Math.ceil(n / (cols * 90)));
    var cells = Math.ceil(n / per), rows = Math.ceil(cells / cols);
    cv.width = cols * cell; cv.height = rows * cell;
    cv.style.maxWidth = (cols * cell) + 'px';
    var g = cv.getContext('2d');
    for (var c = 0; c < cells; c++) {
      var s = '0', best = -1, tally = {};
      for (var j = c * per; j < Math.min(n, (c + 1) * per); j++) { var ch = pages.charAt(j); tally[ch] = (tally[ch] || 0) + 1; }
      ['2', '1', '3', '0'].forEach(function (k) { if ((tally[k] || 0) > best) { best = tally[k] || 0; s = k; } });
      g.fillStyle = PAGE_COLORS[s];
      g.fillRect((c % cols) * cell, Math.floor(c / cols) * cell, cell - (cell > 4 ? 1 : 0), cell - (cell > 4 ? 1 : 0));
    }
    cv.addEventListener('mousemove', function (ev) {
      var rect = cv.getBoundingClientRect(), sx = cv.width / rect.width;
      var c = Math.floor((ev.clientY - rect.top) * sx / cell) * cols + Math.floor((ev.clientX - rect.left) * sx / cell);
      if (c < 0 || c >= cells) { info.textContent = ''; return; }
      var first = c * per, addr;
      try { addr = '0x' + (BigInt(h.page_map_start) + BigInt(first * 4096)).toString(16); } catch (e) { addr = 'page ' + first; }
      info.textContent = (per > 1 ? 'pages ' + num(first) + '\u2013' + num(Math.min(n, first + per) - 1) : 'page ' + num(first)) +
        ' at ' + addr + ': ' + PAGE_TEXT[pages.charAt(first)];
    });
    if (per > 1) info.textContent = 'each cell is ' + per + ' pages; the colour is the most common state, free-resident first';
    return wrap;
  }
  function gapChart(gaps) {
    var max = Math.max.apply(null, gaps), W = 560, H = 150, bw = W / gaps.length;
    var svg = sv('svg', {class: 'chart', viewBox: '0 0 ' + W + ' ' + (H + 34), role: 'img'});
    gaps.forEach(function (v, i) {
      var bh = max ? Math.max(v ? 2 : 0, (H - 14) * v / max) : 0;
      svg.appendChild(sv('rect', {class: 'bar', x: i * bw + 2, y: H - bh, width: bw - 4, height: bh},
        sv('title', null, plural(v, 'free gap') + ' of ' + bytes(Math.pow(2, i + 4)) + ' to ' + bytes(Math.pow(2, i + 5)))));
      if (v) svg.appendChild(sv('text', {x: i * bw + bw / 2, y: H - bh - 3, 'text-anchor': 'middle'}, num(v)));
      if (i % 4 === 0) svg.appendChild(sv('text', {x: i * bw + 2, y: H + 14}, bytes(Math.pow(2, i + 4))));
    });
    svg.appendChild(sv('line', {class: 'axis', x1: 0, x2: W, y1: H, y2: H}));
    svg.appendChild(sv('text', {x: W, y: H + 30, 'text-anchor': 'end'}, 'free gap size'));
    return svg;
  }
  function sitesTable(h) {
    var t = el('table', null, el('thead', null, el('tr', null, el('th', {class: 'n'}, 'pinned pages'), el('th', {class: 'n'}, 'resident'),
      el('th', {class: 'n'}, 'live'), el('th', {class: 'n'}, 'blocks'), el('th', null, 'allocated at'))));
    var shown = 0, more = el('div', {class: 'pager'});
    function draw(n) {
      for (; shown < Math.min(n, h.sites.length); shown++) {
        var s = h.sites[shown];
        t.appendChild(expandable(el('tbody', {class: 'site'}, el('tr', {class: 'row'}, el('td', {class: 'n'}, num(s[3])),
          el('td', {class: 'n'}, bytes(s[2])), el('td', {class: 'n'}, bytes(s[1])), el('td', {class: 'n'}, num(s[0])), whereCell(s[4]))), s[4]));
      }
      while (more.lastChild) more.removeChild(more.lastChild);
      if (shown < h.sites.length)
        more.appendChild(el('button', {class: 'btn', type: 'button', onclick: function () { draw(h.sites.length); }}, 'Show all ' + num(h.sites.length) + ' sites'));
    }
    draw(15);
    return [t, more];
  }
  function heapCard(p) {
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-heap'},
      el('h2', null, 'Heap fragmentation'),
      el('p', {class: 'lead'}, 'The main heap page by page, and the allocation sites whose blocks alone keep resident pages that are at least half free.'));
    var h = p.heap;
    if (!h) { card.appendChild(empty('The heap was not walked (no allocation seen, or memory not readable).')); return card; }
    if (h.glibc_only)
      card.appendChild(el('p', {class: 'lead'}, 'The program allocates with ' + (h.malloc || 'another allocator') +
        ', not glibc\'s malloc: these figures cover glibc\'s heap only.'));
    card.appendChild(heapStats(h));
    card.appendChild(el('div', {class: 'sub2'}, 'Main heap pages' + (h.pages && h.pages.length ? ' \u00b7 ' + plural(h.pages.length, 'page') + ' from ' + h.page_map_start : '')));
    card.appendChild(h.pages && h.pages.length ? pageStrip(h) : empty('No page map of the main heap.'));
    var left = el('div', null, el('div', {class: 'sub2'}, 'Free gaps by size'),
      h.gaps && h.gaps.some(function (v) { return v > 0; }) ? gapChart(h.gaps) : empty('No free gap.'));
    var right = el('div', null, el('div', {class: 'sub2'}, 'Heaps'), h.parts && h.parts.length ? el('table', {class: 'small'},
      el('thead', null, el('tr', null, el('th', null, 'heap'), el('th', null, 'range'), el('th', {class: 'n'}, 'extent'),
        el('th', {class: 'n'}, 'live'), el('th', {class: 'n'}, 'free'), el('th', {class: 'n'}, 'ext. frag.'))),
      el('tbody', null, h.parts.map(function (x) {
        return el('tr', null, el('td', null, x.kind), el('td', {class: 'mono'}, x.start + '\u2013' + x.end), el('td', {class: 'n'}, bytes(x.extent_bytes)),
          el('td', {class: 'n'}, bytes(x.live_bytes)), el('td', {class: 'n'}, bytes(x.free_bytes)),
          el('td', {class: 'n'}, (100 * (x.external_fragmentation || 0)).toFixed(1) + '%'));
      }))) : empty('No heap parts.'));
    card.appendChild(el('div', {class: 'grid2'}, left, right));
    card.appendChild(el('div', {class: 'sub2'}, 'Top fragmentation culprits'));
    /* Only sites that pin a page: resident, their blocks its only live data,
     * at least half of it free.  A densely packed heap has none. */
    var culprits = (h.sites || []).filter(function (s) { return s[3] > 0; });
    if (culprits.length) add(card, sitesTable({sites: culprits}));
    else card.appendChild(none('No allocation site alone holds a resident page that is at least half free: the heap is packed where it is resident.'));
    return card;
  }

  /* ---- timeline ---------------------------------------------------------------------------------- */

  function ticks(max, n) {
    if (!(max > 0)) return [0];
    var step = Math.pow(10, Math.floor(Math.log10(max / n))), out = [];
    [1, 2, 5, 10].some(function (m) { if (max / (step * m) <= n) { step *= m; return true; } return false; });
    for (var v = 0; v < max * 0.9999; v += step) out.push(v);
    out.push(v);
    return out;
  }
  function byteTicks(max) {
    if (!(max > 0)) return [0];
    var unit = Math.pow(1024, Math.max(0, Math.floor(Math.log(max) / Math.log(1024))));
    return ticks(max / unit, 5).map(function (v) { return v * unit; });
  }
  function timelineChart(pts) {
    var useT = pts[pts.length - 1][0] > 0, X = function (q) { return useT ? q[0] : q[1]; };
    var W = 1000, H = 240, L = 70, B = 28, T = 10, R = 10;
    var xmax = Math.max(X(pts[pts.length - 1]), 1e-9), ymax = 1;
    pts.forEach(function (q) { ymax = Math.max(ymax, q[2] + q[3]); });
    var yt = byteTicks(ymax); ymax = Math.max(ymax, yt[yt.length - 1]);
    var sx = function (v) { return L + (W - L - R) * v / xmax; }, sy = function (v) { return T + (H - T - B) * (1 - v / ymax); };
    var svg = sv('svg', {class: 'chart', viewBox: '0 0 ' + W + ' ' + H, role: 'img'});
    yt.forEach(function (v) {
      svg.appendChild(sv('line', {class: 'grid', x1: L, x2: W - R, y1: sy(v), y2: sy(v)}));
      svg.appendChild(sv('text', {x: L - 6, y: sy(v) + 4, 'text-anchor': 'end'}, bytes(v)));
    });
    var xt = ticks(xmax, 8);
    xt.forEach(function (v, i) {
      var anchor = i === xt.length - 1 && sx(v) > W - R - 30 ? 'end' : 'middle';   /* not clipped at the edge */
      svg.appendChild(sv('text', {x: sx(v), y: H - 8, 'text-anchor': anchor}, useT ? (xmax < 2 ? (v * 1000).toFixed(0) + ' ms' : v.toFixed(1) + ' s') : num(Math.round(v))));
    });
    function area(top, bottom, cls) {
      var d = 'M' + sx(X(pts[0])) + ',' + sy(bottom(pts[0])), i;
      for (i = 0; i < pts.length; i++) {
        if (i) d += 'L' + sx(X(pts[i])) + ',' + sy(top(pts[i - 1]));
        d += 'L' + sx(X(pts[i])) + ',' + sy(top(pts[i]));
      }
      d += 'L' + sx(xmax) + ',' + sy(top(pts[pts.length - 1])) + 'L' + sx(xmax) + ',' + sy(bottom(pts[pts.length - 1]));
      for (i = pts.length - 1; i >= 0; i--) {
        d += 'L' + sx(X(pts[i])) + ',' + sy(bottom(pts[i]));
        if (i) d += 'L' + sx(X(pts[i])) + ',' + sy(bottom(pts[i - 1]));
      }
      svg.appendChild(sv('path', {class: cls, d: d + 'Z'}));
    }
    area(function (q) { return q[2]; }, function () { return 0; }, 'brk');
    area(function (q) { return q[2] + q[3]; }, function (q) { return q[2]; }, 'mmap');
    svg.appendChild(sv('line', {class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B}));
    svg.appendChild(sv('line', {class: 'axis', x1: L, x2: L, y1: T, y2: H - B}));
    var cur = sv('line', {class: 'cursor', x1: -10, x2: -10, y1: T, y2: H - B});
    svg.appendChild(cur);
    var info = el('div', {class: 'hover'}, useT ? 'x: time since the process started' : 'x: watched events (no clock recorded)');
    svg.addEventListener('mousemove', function (ev) {
      var r = svg.getBoundingClientRect(), x = (ev.clientX - r.left) * W / r.width, v = (x - L) / (W - L - R) * xmax, k = 0;
      for (var i = 0; i < pts.length; i++) if (X(pts[i]) <= v) k = i;
      var q = pts[k];
      cur.setAttribute('x1', sx(X(q))); cur.setAttribute('x2', sx(X(q)));
      info.textContent = (useT ? duration(q[0]) || '0 s' : 'event ' + num(q[1])) + ' \u00b7 brk heap ' + bytes(q[2]) + ' \u00b7 mmap ' + bytes(q[3]) + ' \u00b7 total ' + bytes(q[2] + q[3]);
    });
    return [svg, info];
  }
  /* memlens -p --interval: at each sample, the sites whose unfreed bytes grew. */
  function growthTable(growth) {
    var t = el('table', {class: 'growth'}, el('thead', null, el('tr', null, el('th', {class: 'n'}, 'at'), el('th', {class: 'n'}, 'growing sites'),
      el('th', {class: 'n'}, 'grew'), el('th', {class: 'n'}, 'rate'), el('th', {class: 'n'}, 'in a row'), el('th', {class: 'n'}, 'unfreed'),
      el('th', null, 'allocated at'))));
    growth.forEach(function (g) {
      if (!g[2].length) {
        t.appendChild(el('tbody', {class: 'gsample'}, el('tr', null, el('td', {class: 'n'}, duration(g[0])), el('td', {class: 'n'}, '0'),
          el('td', {colspan: 5, class: 'none'}, 'no site grew'))));
        return;
      }
      g[2].forEach(function (s, i) {
        t.appendChild(expandable(el('tbody', {class: 'gsite', 'data-at': g[0]}, el('tr', {class: 'row'},
          el('td', {class: 'n'}, i ? '' : duration(g[0])), el('td', {class: 'n'}, i ? '' : num(g[1])),
          el('td', {class: 'n'}, '+' + bytes(s[0])), el('td', {class: 'n'}, bytes(s[1]) + '/s'),
          el('td', {class: 'n'}, plural(s[2], 'interval')), el('td', {class: 'n'}, bytes(s[3]) + ' in ' + plural(s[4], 'block')),
          whereCell(s[5], true))), s[5]));
      });
    });
    return t;
  }
  function windowCard(p) {
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-timeline'},
      el('h2', null, 'Memory during the attach window'),
      el('p', {class: 'lead'}, 'What the recording saw between the attach and the detach: at each --interval sample, the sites whose unfreed ' +
        'bytes grew since the one before, largest growth first. memlens -p watches no system call, so there is no heap-size timeline.'));
    card.appendChild(p.growth.length ? growthTable(p.growth)
      : empty('No --interval sample was taken: rerun with --interval=SECONDS to see which sites grow during the window.'));
    return card;
  }
  function timelineCard(p) {
    if (D.mode === 'attach') return windowCard(p);
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-timeline'},
      el('h2', null, 'Heap size over time'),
      el('p', {class: 'lead'}, 'Bytes of the brk heap and of anonymous mappings, as the syscall watcher saw them change.'));
    if (p.timeline.length) {
      card.appendChild(el('div', {class: 'legend'}, el('span', {style: '--c:#e8590c'}, el('i'), 'brk heap'),
        el('span', {style: '--c:#f59f00'}, el('i'), 'anonymous mmap')));
      add(card, timelineChart(p.timeline));
      var last = p.timeline[p.timeline.length - 1];
      if (last[4]) card.appendChild(el('p', {class: 'ownnote'}, 'Not drawn: memlens\u2019s own anonymous mappings (the shim\u2019s .bss and its libraries\u2019), ' +
        bytes(last[4]) + ' at the end, which exist only because memlens is there.'));
    } else card.appendChild(empty('No change of the heap size was watched.'));
    if (p.syscalls) {
      card.appendChild(el('div', {class: 'sub2'}, 'Watched system calls'));
      card.appendChild(el('div', {class: 'sc'}, Object.keys(p.syscalls).map(function (k) {
        return el('span', null, el('b', null, k), num(p.syscalls[k]));
      })));
    }
    return card;
  }

  /* ---- shm and mapping leaks ------------------------------------------------------------------ */

  function yesno(v) { return el('span', {class: v ? 'ok' : 'no'}, v ? 'yes' : 'no'); }
  function shmTable(shm) {
    var t = el('table', null, el('thead', null, el('tr', null, el('th', {class: 'n'}, 'shmid'), el('th', null, 'key'),
      el('th', {class: 'n'}, 'size'), el('th', null, 'attached at'), el('th', null, 'detached'), el('th', null, 'removed'),
      el('th', null, 'status'), el('th', null, 'created at'))));
    shm.forEach(function (s) {
      var key = s.key === 0 ? 'IPC_PRIVATE' : '0x' + (s.key >>> 0).toString(16);
      t.appendChild(expandable(el('tbody', {class: 'shmseg'}, el('tr', {class: 'row'}, el('td', {class: 'n'}, String(s.shmid)),
        el('td', {class: 'mono'}, key), el('td', {class: 'n'}, bytes(s.size)), el('td', {class: 'mono'}, s.attached === '0x0' ? 'never' : s.attached),
        el('td', null, yesno(s.detached)), el('td', null, yesno(s.removed)),
        el('td', null, s.leaked ? el('span', {class: 'badge', 'data-kind': 'definite'}, 'leaked: outlives the process') : el('span', {class: 'badge ghost'}, 'cleaned up')),
        whereCell(s.stack))), s.stack));
    });
    return t;
  }
  function mappingTable(ml) {
    var t = el('table', null, el('thead', null, el('tr', null, el('th', {class: 'n'}, 'mappings'), el('th', {class: 'n'}, 'bytes'),
      el('th', {class: 'n'}, 'resident'), el('th', null, 'mapped at'))));
    ml.forEach(function (m) {
      t.appendChild(expandable(el('tbody', {class: 'maplk'}, el('tr', {class: 'row'}, el('td', {class: 'n'}, num(m[0])),
        el('td', {class: 'n'}, bytes(m[1])), el('td', {class: 'n'}, bytes(m[2])), whereCell(m[3]))), m[3]));
    });
    return t;
  }
  function shmCard(p) {
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-shm'},
      el('h2', null, 'Shared memory and leaked mappings'),
      el('p', {class: 'lead'}, 'SysV segments the program created or attached, and anonymous mappings it made and never unmapped.'));
    card.appendChild(el('div', {class: 'sub2'}, 'SysV shared memory segments'));
    card.appendChild(p.shm.length ? shmTable(p.shm) : p.syscalls ? none('The program used no SysV shared memory.') : empty('Shared memory calls were not watched.'));
    card.appendChild(el('div', {class: 'sub2'}, 'Mappings never unmapped'));
    card.appendChild(p.mapping_leaks.length ? mappingTable(p.mapping_leaks) : p.syscalls ? none('Every mapping the program made itself was unmapped.') : empty('Mapping calls were not watched.'));
    return card;
  }

  /* --diff: the stacks that are new or hold more than in the old report. */
  function diffCard(p) {
    if (!p.diff) return null;
    var d = p.diff, card = el('section', {class: 'card', id: 'p' + p.pid + '-diff'},
      el('h2', null, 'Growth since ' + (D.diff_against ? base(D.diff_against) : 'the old report')),
      el('p', {class: 'lead'}, d.old_pid ? 'Compared with pid ' + d.old_pid + ': ' + plural(d.records.length, 'stack') +
        ' new or grown, ' + plural(d.gone, 'stack') + ' gone.' : 'The old report has no process of this program: every stack is new.'));
    if (!d.records.length) { card.appendChild(none('No stack holds more than in the old report.')); return card; }
    var t = el('table', {class: 'diff'}, el('thead', null, el('tr', null, el('th', {class: 'n'}, 'bytes grown'), el('th', {class: 'n'}, 'blocks grown'),
      el('th', {class: 'n'}, 'now'), el('th', null, 'kind'), el('th', null, 'status'), el('th', null, 'allocated at'))));
    d.records.forEach(function (g) {
      var stack = p.records[g[6]] ? p.records[g[6]][6] : [];
      t.appendChild(expandable(el('tbody', {class: 'site'}, el('tr', {class: 'row'}, el('td', {class: 'n'}, '+' + bytes(g[3] - g[5])),
        el('td', {class: 'n'}, '+' + num(g[2] - g[4])), el('td', {class: 'n'}, bytes(g[3])), el('td', null, KIND_TEXT[KINDS[g[1]]]),
        el('td', null, g[0] === 0 ? 'new' : 'grew'), whereCell(stack))), stack));
    });
    card.appendChild(t);
    return card;
  }

  /* ---- descriptors (--track-fds) ------------------------------------------------------------- */

  /* fd rows: [fd, title, kind, function|null, inherited, std, [frame...]]. */
  function fdsCard(p) {
    var f = p.fds, shown = f.list.filter(function (d) { return !d[5] || f.list_std; });
    var card = el('section', {class: 'card', id: 'p' + p.pid + '-fds'},
      el('h2', null, 'File descriptors'),
      el('p', {class: 'lead'}, plural(f.open, 'descriptor') + ' open at exit (' + num(f.std) +
        ' std), as valgrind --track-fds lists them: newest first, with the call that opened each.'));
    if (!shown.length) {
      card.appendChild(none('No descriptor beyond the standard three was open at exit.'));
      return card;
    }
    var t = el('table', null, el('thead', null, el('tr', null, el('th', {class: 'n'}, 'fd'), el('th', null, 'kind'),
      el('th', null, 'what'), el('th', null, 'opened by'), el('th', null, 'opened at'))));
    shown.forEach(function (d) {
      var by = d[4] ? el('span', {class: 'badge ghost'}, 'inherited from parent') :
        d[3] ? el('code', null, d[3]) : el('span', {class: 'badge ghost'}, 'not seen');
      t.appendChild(expandable(el('tbody', {class: 'fd', 'data-fd': d[0]}, el('tr', {class: 'row'},
        el('td', {class: 'n'}, String(d[0])), el('td', null, d[2]), el('td', {class: 'mono'}, d[1].replace(/^Open /, '')),
        el('td', null, by), whereCell(d[6]))), d[6]));
    });
    card.appendChild(t);
    return card;
  }

  /* ---- page --------------------------------------------------------------------------------------- */

  function normalize(p) {
    ['records', 'regions', 'shm', 'timeline', 'mapping_leaks', 'argv', 'growth'].forEach(function (k) { if (!Array.isArray(p[k])) p[k] = []; });
    p.records.forEach(function (r, i) { r.num = i + 1; });
    if (!p.summary) p.summary = {};
    ORDER.forEach(function (k) { if (!p.summary[k]) p.summary[k] = [0, 0]; });
    if (!p.alloc) p.alloc = {calls: 0, bytes: 0, frees: 0, peak_live_bytes: 0, live_blocks: 0, live_bytes: 0};
    return p;
  }
  function procName(p) { return p.exe ? base(p.exe) : (p.argv[0] ? base(p.argv[0]) : 'process'); }
  function leaked(p) { return p.summary.definite[1] + p.summary.indirect[1] + p.summary.possible[1]; }

  function topbar(procs) {
    var logo = sv('svg', {width: 22, height: 22, viewBox: '0 0 24 24', 'aria-hidden': 'true'},
      sv('circle', {cx: 10, cy: 10, r: 7, fill: 'none', stroke: '#74c0fc', 'stroke-width': 2.5}),
      sv('line', {x1: 15, y1: 15, x2: 21, y2: 21, stroke: '#74c0fc', 'stroke-width': 3, 'stroke-linecap': 'round'}),
      sv('circle', {cx: 10, cy: 10, r: 2.5, fill: '#ff6b6b'}));
    var bar = el('header', {class: 'topbar'}, el('div', {class: 'in'},
      el('div', {class: 'brand'}, logo, 'memlens'),
      el('span', {class: 'sub'}, 'leak & fragmentation report' + (D.version ? ' \u00b7 ' + D.version : '') + (D.mode === 'attach' ? ' \u00b7 attached' : '')),
      el('div', {class: 'cmd', title: (D.command || []).join(' ')}, (D.command || []).map(shellWord).join(' '))));
    return bar;
  }
  function tabs(p) {
    var t = [['summary', 'Summary'], ['leaks', 'Leaks'], ['flame', 'Flame graph'], ['map', 'Memory map'], ['heap', 'Heap'],
             ['timeline', D.mode === 'attach' ? 'Attach window' : 'Timeline'], ['shm', 'Shared memory']];
    if (p.fds) t.push(['fds', 'Descriptors']);
    if (p.diff) t.splice(2, 0, ['diff', 'Growth']);
    return el('nav', {class: 'tabs'}, t.map(function (x) { return el('a', {href: '#p' + Number(p.pid) + '-' + x[0]}, x[1]); }));
  }
  /* The kinds --show-leak-kinds named are listed first; the others (and
   * suppressed records) are one click away.  #all shows every kind. */
  var SHOWN = {}, ALL = location.hash === '#all';
  (D.show_kinds && !ALL ? D.show_kinds : ORDER).forEach(function (k) { SHOWN[k] = true; });
  function processBody(p) {
    var st = {kinds: {definite: !!SHOWN.definite, indirect: !!SHOWN.indirect, possible: !!SHOWN.possible,
                      reachable: !!SHOWN.reachable, suppressed: !!SHOWN.suppressed},
              minBytes: 0, minBlocks: 0, q: '', sort: 'kind', asc: false};
    var flame = flameCard(p, st);
    return [tabs(p), header(p), leaksCard(p, st, flame[1]), diffCard(p), flame[0], mapCard(p), heapCard(p), timelineCard(p), shmCard(p)]
      .concat(p.fds ? [fdsCard(p)] : []);
  }
  function lostText(p) {
    return ['definite', 'indirect', 'possible'].map(function (k) { return KIND_TEXT[k] + ' ' + bytes(p.summary[k][1]); }).join(' \u00b7 ');
  }
  /* A process's section; its body is built the first time it opens, so a
   * page of many processes draws only the ones looked at. */
  function processSection(p, open) {
    var body = el('div', {class: 'proc-body'}), built = false;
    var toggle = el('button', {class: 'proc-toggle', type: 'button', 'aria-expanded': 'false', title: 'show or hide this process'}, '\u25B8');
    var sec = el('section', {class: 'proc', id: 'proc-' + Number(p.pid), 'data-pid': p.pid},
      el('div', {class: 'proc-title'}, toggle, el('h1', null, procName(p)),
        el('span', {class: 'pid'}, 'pid ' + p.pid + (p.exe ? ' \u00b7 ' : ''), p.exe ? el('code', null, p.exe) : null),
        el('span', {class: 'lost'}, lostText(p))),
      body);
    function expand(on) {
      if (on && !built) { add(body, processBody(p)); built = true; }
      body.hidden = !on;
      sec.classList.toggle('closed', !on);
      toggle.textContent = on ? '\u25BE' : '\u25B8';
      toggle.setAttribute('aria-expanded', on ? 'true' : 'false');
    }
    toggle.addEventListener('click', function () { expand(body.hidden || !built); });
    sec.expand = expand;
    expand(open);
    return sec;
  }

  /* One row per process: the way into a page of many.  Columns sort on a
   * click; a box keeps only the processes that lost bytes. */
  function processTable(procs) {
    var kinds = ['definite', 'indirect', 'possible'];
    var card = el('section', {class: 'card', id: 'processes'},
      el('h2', null, num(procs.length) + ' processes traced'),
      el('p', {class: 'lead'}, 'Bytes lost by each process, in the order they started. Click a process for its report, a column to sort by it.'));
    var totals = {definite: 0, indirect: 0, possible: 0}, lossy = 0;
    var rows = procs.map(function (p, i) {
      kinds.forEach(function (k) { totals[k] += p.summary[k][1]; });
      if (leaked(p)) lossy++;
      var argv = (p.argv && p.argv.length ? p.argv : [procName(p)]).map(shellWord).join(' ');
      var tr = el('tr', {'data-pid': p.pid, class: leaked(p) ? 'lossy' : null},
        el('td', {class: 'n'}, el('a', {href: '#proc-' + Number(p.pid)}, String(p.pid))),
        el('td', {class: 'cmdcell', title: argv}, el('a', {href: '#proc-' + Number(p.pid)}, argv)),
        el('td', null, exitText(p.exit)),
        kinds.map(function (k) {
          var b = p.summary[k][1];
          return el('td', {class: 'n' + (b ? ' has' : ' zero'), 'data-kind': k, title: plural(p.summary[k][0], 'block')}, bytes(b));
        }));
      return {tr: tr, keys: [i, argv, exitText(p.exit), p.summary.definite[1], p.summary.indirect[1], p.summary.possible[1]]};
    });
    var tb = el('tbody'), sortBy = 0, asc = true, onlyLossy = false;
    function draw() {
      var list = rows.filter(function (r) { return !onlyLossy || r.tr.classList.contains('lossy'); });
      list.sort(function (x, y) {
        var a = x.keys[sortBy], b = y.keys[sortBy];
        return (a < b ? -1 : a > b ? 1 : x.keys[0] - y.keys[0]) * (asc ? 1 : -1);
      });
      while (tb.lastChild) tb.removeChild(tb.lastChild);
      list.forEach(function (r) { tb.appendChild(r.tr); });
    }
    var names = ['pid', 'command', 'exit'].concat(kinds.map(function (k) { return KIND_TEXT[k]; }));
    var heads = names.map(function (n, i) {
      var th = el('th', {class: (i === 0 || i > 2 ? 'n ' : '') + 'sort' + (i === 0 ? ' on' : '')}, n);
      th.addEventListener('click', function () {
        asc = sortBy === i ? !asc : i < 3;
        sortBy = i;
        heads.forEach(function (h) { h.classList.remove('on', 'asc'); });
        th.classList.add('on');
        th.classList.toggle('asc', asc);
        draw();
      });
      return th;
    });
    heads[0].classList.add('asc');
    var box = el('input', {type: 'checkbox'});
    box.addEventListener('change', function () { onlyLossy = box.checked; draw(); });
    card.appendChild(el('div', {class: 'toolbar'}, el('label', null, box, 'only the ' + num(lossy) + (lossy === 1 ? ' process' : ' processes') + ' that lost bytes')));
    card.appendChild(el('table', {class: 'procs'}, el('thead', null, el('tr', null, heads)), tb,
      el('tfoot', null, el('tr', null, el('td'), el('td', null, 'all processes'), el('td'),
        kinds.map(function (k) { return el('td', {class: 'n'}, bytes(totals[k])); })))));
    draw();
    return card;
  }

  var OPEN_MAX = 3;   /* more processes than this: each section starts closed */

  /* The section a fragment (#proc-PID, #pPID-leaks) points into, opened. */
  function openFor(hash, sections) {
    var m = /^#(?:proc-|p)(\d+)/.exec(hash || '');
    var sec = m && sections[m[1]];
    if (!sec) return;
    sec.expand(true);
    var target = document.getElementById(hash.slice(1));
    if (target) target.scrollIntoView();
  }

  function main() {
    var t0 = performance.now();
    var procs = (D.processes || []).map(normalize);
    var app = document.getElementById('app');
    var total = 0, sections = {};
    procs.forEach(function (p) { total += leaked(p); });
    document.title = 'memlens: ' + (D.command && D.command[0] ? base(D.command[0]) : 'report') + ' \u2014 ' + bytes(total) + ' lost';
    document.body.insertBefore(topbar(procs), app);
    var m = el('main');
    if (!procs.length) m.appendChild(el('section', {class: 'card'}, empty('No process was traced.')));
    if (procs.length > 1) m.appendChild(processTable(procs));
    procs.forEach(function (p) {
      var sec = processSection(p, ALL || procs.length <= OPEN_MAX);
      sections[p.pid] = sec;
      m.appendChild(sec);
    });
    m.appendChild(el('footer', null, 'memlens ' + (D.version || '') + ' \u00b7 this page is self-contained and works offline'));
    app.appendChild(m);
    m.addEventListener('click', function (ev) {
      var a = ev.target.closest && ev.target.closest('a[href^="#"]');
      if (a) openFor(a.getAttribute('href'), sections);
    });
    window.addEventListener('hashchange', function () { openFor(location.hash, sections); });
    openFor(location.hash, sections);
    app.setAttribute('data-parse-ms', Math.round(t0 - T0));
    app.setAttribute('data-render-ms', Math.round(performance.now() - t0));
    void document.body.offsetHeight;   /* style and layout, so that the mark below includes them */
    app.setAttribute('data-ready-ms', Math.round(performance.now()));
    if (performance.mark) performance.mark('memlens-ready');
  }
  main();
})();
