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
    m_watchShown.clear();
    for (const auto& trial : trials) {
        m_watchReadThrough = std::max(m_watchReadThrough, trial.number);
        if (!isFinal(trial.state)) {
            m_watchOpen.insert(trial.number);
            m_watchShown[trial.number] = {trial.state, trial.intermediate.size()};
        }
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
    // Every open trial comes back at each read; the view is told only of what changed, and the summary
    // (a read of the whole study) follows a change of state only.
    bool statesChanged = false;
    for (const auto& trial : m_store->trialsAfter(m_studyId, m_watchReadThrough, open, true)) {
        m_watchReadThrough = std::max(m_watchReadThrough, trial.number);
        const std::pair<TrialState, size_t> shown{trial.state, trial.intermediate.size()};
        const auto known = m_watchShown.find(trial.number);
        if (known != m_watchShown.end() && known->second == shown)
            continue;
        statesChanged = statesChanged || known == m_watchShown.end() || known->second.first != trial.state;
        if (isFinal(trial.state)) {
            m_watchOpen.erase(trial.number);
            m_watchShown.erase(trial.number);
        } else {
            m_watchOpen.insert(trial.number);
            m_watchShown[trial.number] = shown;
        }
        m_view->upsertTrial(trial);
    }
    if (!statesChanged)
        return;
    if (const auto record = m_store->study(m_studyId))
        showStoredState(*m_watchedSpec, record->name);
}

} // namespace tunelab
