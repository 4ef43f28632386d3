// Conta-Histórias: upload a photo (or ask for a random one), then follow its story's Server-Sent Events and show
// each part the moment it exists. Plain JavaScript, no build step; every text the user reads is Portuguese.
// The story grows sentence by sentence while it is written (`sentence` events), then the whole text replaces it.
// performance.mark() names the moments the tests and the README measure: upload-start, upload-done,
// caption-shown, sentence-shown (the first), story-shown, voice-playable.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const maxBytes = Number(document.body.dataset.maxBytes) || 20 * 1024 * 1024;
  const maxMb = String(Math.round((maxBytes / 1048576) * 10) / 10).replace(".", ",");
  const PROGRESS = { decode: 22, caption: 30, caption_ready: 50, story: 55, story_ready: 80, speech: 85, voice: 100 };
  const TEXT = { // tooLarge and notImage: the server's sentences (app/wording.py, INVALID_IMAGE), said sooner
    tooLarge: `Essa imagem é grande demais para mim (máximo ${maxMb} MB). 📦 Envie uma foto menor.`,
    notImage: "Isso não parece ser uma imagem. 🙈 Envie uma foto em JPEG, PNG ou WebP.",
    sending: "📤 Enviando a foto…",
    random: "🎲 Buscando uma paisagem…",
    network: "Não consegui falar com o servidor. 📡 Verifique a conexão e tente de novo.",
    lost: "A conexão com o servidor caiu antes do fim da história. 📡 Tente de novo.",
    done: "✅ Pronto! Aperte o play para ouvir a história.",
    doneNoVoice: "✅ Pronto.",
    showEn: "🇬🇧 Ler em inglês",
    showPt: "🇧🇷 Ler em português",
    titlePt: "A história",
    titleEn: "The story",
  };

  let generation = 0; // each new photo starts a new generation; events of older ones are ignored
  let source = null; // the EventSource of the current story
  let objectUrl = null; // the local preview of an uploaded photo
  let story = null; // { pt, en, showing, writing }
  const CHOICES = ["kind", "length"]; // the story's <select>s, remembered in this browser (localStorage)
  // The user's own words about the photo and the story's hero, sent as written; the main character is remembered.
  const WORDS = ["hint", "main_character"];
  const REMEMBERED_WORDS = ["main_character"];

  $("max-mb").textContent = maxMb;

  function show(el, visible = true) {
    el.hidden = !visible;
  }

  function status(text) {
    $("status").textContent = text;
  }

  function progress(value) {
    $("progress").value = Math.max($("progress").value, value);
  }

  function fail(message) {
    $("story-text").setAttribute("aria-busy", "false");
    const error = $("error");
    error.textContent = message;
    show(error);
    show($("progress"), false);
    status("");
    busy(false);
  }

  function busy(on) {
    $("random").disabled = on;
  }

  // A fresh result area for a new photo; returns its generation.
  function reset() {
    generation += 1;
    if (source) source.close();
    source = null;
    story = null;
    $("story-text").setAttribute("aria-busy", "false");
    performance.clearMarks();
    for (const id of ["error", "figure", "caption-pt", "caption-en", "credit", "story", "voice"]) show($(id), false);
    $("story-text").replaceChildren();
    $("credit").replaceChildren();
    const audio = $("audio");
    audio.removeAttribute("src");
    audio.load();
    $("progress").value = 0;
    show($("progress"));
    show($("resultado"));
    busy(true);
    return generation;
  }

  function preview(url, alt) {
    const image = $("image");
    image.src = url;
    image.alt = alt;
    show($("figure"));
  }

  function setCredit(credit) {
    const box = $("credit");
    box.replaceChildren();
    if (!credit) return;
    for (const part of credit.parts || [{ text: credit.line }]) {
      if (part.url && /^https?:\/\//.test(part.url)) {
        const a = document.createElement("a");
        a.href = part.url;
        a.rel = "noopener noreferrer";
        a.target = "_blank";
        a.textContent = part.text;
        box.append(a);
      } else {
        box.append(document.createTextNode(part.text));
      }
    }
    show(box);
  }

  function renderStory() {
    const english = story.showing === "en";
    const text = english ? story.en : story.pt;
    const box = $("story-text");
    box.lang = english ? "en" : "pt-BR";
    box.replaceChildren(
      ...text
        .split(/\n\s*\n/)
        .filter((p) => p.trim())
        .map((p) => {
          const para = document.createElement("p");
          para.textContent = p.trim();
          return para;
        }),
    );
    $("story-title").textContent = english ? TEXT.titleEn : TEXT.titlePt;
    $("story-title").lang = english ? "en" : "pt-BR";
    const toggle = $("toggle");
    toggle.textContent = english ? TEXT.showPt : TEXT.showEn;
    toggle.setAttribute("aria-pressed", String(english));
  }

  // One more sentence at the end of the story being written, in the language shown (no re-render: selection and
  // scrolling stay). The box is aria-busy meanwhile, so screen readers read the whole story once, at the end.
  function addSentence(d) {
    const first = !story || !story.writing;
    if (first) story = { pt: "", en: "", showing: story ? story.showing : "pt", writing: true };
    story.pt = story.pt ? `${story.pt} ${d.sentence_pt}` : d.sentence_pt;
    story.en = story.en ? `${story.en} ${d.sentence_en}` : d.sentence_en;
    const box = $("story-text");
    box.setAttribute("aria-busy", "true");
    if (first) {
      renderStory();
      show($("story"));
      performance.mark("sentence-shown");
      return;
    }
    const para = box.lastElementChild || box.appendChild(document.createElement("p"));
    para.append(` ${story.showing === "en" ? d.sentence_en : d.sentence_pt}`);
  }

  function choice(name) {
    return $(name).value;
  }

  function words(name) {
    return $(name).value.trim();
  }

  function voiceLanguage() {
    const checked = document.querySelector('input[name="voice"]:checked');
    return checked ? checked.value : "pt";
  }

  // The story's events, each shown as soon as it arrives.
  function follow(started, gen) {
    if (started.message) status(started.message);
    const events = new EventSource(started.events);
    source = events;
    let finished = false;
    const on = (name, handle) =>
      events.addEventListener(name, (e) => {
        if (gen !== generation) return;
        handle(e.data ? JSON.parse(e.data) : {});
      });

    on("queued", (d) => status(d.message));
    on("stage", (d) => {
      status(d.message);
      progress(PROGRESS[d.stage] || 0);
    });
    on("caption", (d) => {
      $("caption-pt").textContent = d.caption_pt;
      $("caption-en").textContent = d.caption_en;
      $("image").alt = `Foto: ${d.caption_pt}`;
      show($("caption-pt"));
      show($("caption-en"));
      progress(PROGRESS.caption_ready);
      performance.mark("caption-shown");
    });
    on("sentence", (d) => {
      addSentence(d);
      progress(Math.min(PROGRESS.story_ready - 2, $("progress").value + 3));
    });
    on("story", (d) => {
      story = { pt: d.story_pt, en: d.story_en, showing: story ? story.showing : "pt", writing: false };
      renderStory();
      $("story-text").setAttribute("aria-busy", "false");
      show($("story"));
      progress(PROGRESS.story_ready);
      performance.mark("story-shown");
    });
    on("voice", (d) => {
      const audio = $("audio");
      audio.src = d.url;
      $("download").href = d.download_url;
      $("download").setAttribute("download", `historia-${d.language}.ogg`);
      show($("voice"));
      progress(PROGRESS.voice);
      audio.load();
    });
    on("stage_failed", (d) => {
      const note = document.createElement("p");
      note.className = "error";
      note.textContent = d.message;
      if (d.stage === "story") {
        story = null; // what was written so far is not a story
        $("story-text").replaceChildren();
        $("story-text").setAttribute("aria-busy", "false");
      }
      if (d.stage === "speech" || d.stage === "story") {
        $("story-text").append(note);
        show($("story"), true);
      } else {
        $("caption-en").after(note);
      }
    });
    on("failed", (d) => {
      finished = true;
      events.close();
      fail(d.message);
    });
    on("done", () => {
      finished = true;
      events.close();
      show($("progress"), false);
      status($("voice").hidden ? TEXT.doneNoVoice : TEXT.done);
      busy(false);
    });
    events.onerror = () => {
      // While connecting again the browser resumes from the last event (Last-Event-ID); closed means gone.
      if (gen === generation && !finished && events.readyState === EventSource.CLOSED) fail(TEXT.lost);
    };
  }

  function upload(file) {
    if (!file) return;
    const gen = reset();
    performance.mark("upload-start");
    if (file.size > maxBytes) return fail(TEXT.tooLarge);
    if (file.type && !file.type.startsWith("image/")) return fail(TEXT.notImage);
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    preview(objectUrl, "Sua foto");
    status(TEXT.sending);
    const form = new FormData();
    form.append("voice", voiceLanguage());
    for (const name of CHOICES) form.append(name, choice(name));
    for (const name of WORDS) form.append(name, words(name));
    form.append("photo", file, file.name || "foto.jpg");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/stories");
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => {
      if (gen !== generation || !e.lengthComputable) return;
      const percent = Math.round((100 * e.loaded) / e.total);
      status(`${TEXT.sending} ${percent}%`);
      progress(percent / 5);
    };
    xhr.onload = () => {
      if (gen !== generation) return;
      performance.mark("upload-done");
      started(xhr.status, xhr.response, gen);
    };
    xhr.onerror = () => gen === generation && fail(TEXT.network);
    xhr.send(form);
    $("resultado").focus({ preventScroll: true });
  }

  function started(httpStatus, body, gen) {
    if (httpStatus !== 202 || !body || !body.events) {
      fail((body && body.message) || TEXT.network);
      return;
    }
    progress(20);
    follow(body, gen);
  }

  async function random() {
    const gen = reset();
    performance.mark("upload-start");
    status(TEXT.random);
    let response;
    let body;
    try {
      // A form body, not the query: the user's words stay out of addresses (and logs).
      const form = new URLSearchParams({ voice: voiceLanguage(), kind: choice("kind"), length: choice("length") });
      for (const name of WORDS) form.append(name, words(name));
      response = await fetch("/api/stories/random", { method: "POST", body: form });
      body = await response.json();
    } catch {
      if (gen === generation) fail(TEXT.network);
      return;
    }
    if (gen !== generation) return;
    performance.mark("upload-done");
    if (response.status === 202) {
      preview(body.photo, body.credit && body.credit.title ? `Foto: ${body.credit.title}` : "Foto aleatória");
      setCredit(body.credit);
    }
    started(response.status, body, gen);
  }

  // The story choices: as last time in this browser, else the page's defaults (classic, medium).
  for (const name of CHOICES) {
    const select = $(name);
    const key = `conta-historias.${name}`;
    try {
      const saved = localStorage.getItem(key);
      if (saved && Array.from(select.options).some((o) => o.value === saved)) select.value = saved;
    } catch {
      // no storage (private mode, disabled): the defaults
    }
    select.addEventListener("change", () => {
      try {
        localStorage.setItem(key, select.value);
      } catch {
        // not remembered, still used
      }
    });
  }

  // The main character: as last time in this browser (forgotten when emptied).
  for (const name of REMEMBERED_WORDS) {
    const input = $(name);
    const key = `conta-historias.${name}`;
    try {
      input.value = localStorage.getItem(key) || "";
    } catch {
      // no storage: empty
    }
    input.addEventListener("change", () => {
      try {
        if (words(name)) localStorage.setItem(key, words(name));
        else localStorage.removeItem(key);
      } catch {
        // not remembered, still used
      }
    });
  }

  $("photo").addEventListener("change", (e) => {
    upload(e.target.files[0]);
    e.target.value = ""; // choosing the same photo again starts again
  });
  $("random").addEventListener("click", random);
  $("toggle").addEventListener("click", () => {
    if (!story) return;
    story.showing = story.showing === "pt" ? "en" : "pt";
    renderStory();
  });
  $("audio").addEventListener("canplay", () => {
    if ($("audio").getAttribute("src")) performance.mark("voice-playable");
  });
  $("form").addEventListener("submit", (e) => e.preventDefault());

  // Drag and drop: onto the box or anywhere on the page (a photo dropped elsewhere must not open as a page).
  const drop = $("drop");
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
  document.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    drop.classList.add("over");
  });
  document.addEventListener("dragleave", (e) => {
    if (e.target === document.documentElement || e.target === drop) drop.classList.remove("over");
  });
  document.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    drop.classList.remove("over");
    upload(e.dataTransfer.files[0]);
  });
})();
