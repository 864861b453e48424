// A stored study shown in the Search tab while other processes run it: workers on other machines
// sharing a PostgreSQL store, or `study run` in a terminal. Once a second the panel reads what may
// have changed (new trials, and the ones it last saw running or waiting) and shows it, so the
// study grows in the window as it does in the store.

#include "study/study_panel.h"

#include "store/run_store.h"
#include "study/study_view.h"

#include <QLabel>
#include <QTimer>

#include <algorithm>
#include <vector>

namespace tunelab {

void StudyPanel::startWatching(const std::vector<TrialRecord>& trials) {
    m_watchReadThrough = -1;
    m_watchOpen.clear();
    for (const auto& trial : trials) {
        m_watchReadThrough = std::max(m_watchReadThrough, trial.number);
        if (!isFinal(trial.state))
            m_watchOpen.insert(trial.number);
    }
    m_watchTimer->start();
}

void StudyPanel::watchStudy() {
    // A study run here reports through its own events; the watch is for studies run elsewhere.
    if (!m_store || m_running || m_studyId <= 0 || !m_watchedSpec) {
        m_watchTimer->stop();
        return;
    }
    const std::vector<int64_t> open(m_watchOpen.begin(), m_watchOpen.end());
    const auto changed = m_store->trialsAfter(m_studyId, m_watchReadThrough, open, true);
    for (const auto& trial : changed) {
        m_watchReadThrough = std::max(m_watchReadThrough, trial.number);
        if (isFinal(trial.state))
            m_watchOpen.erase(trial.number);
        else
            m_watchOpen.insert(trial.number);
        m_view->upsertTrial(trial);
    }
    if (changed.empty())
        return;
    if (const auto record = m_store->study(m_studyId))
        showStoredState(*m_watchedSpec, record->name);
}

} // namespace tunelab
